from __future__ import annotations

import pytest
from spacy.language import Language

from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.detector import MIN_SCORE
from stages.sanitizer.ner import entities
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.person import PersonRecognizer

RECOGNIZER = PersonRecognizer()
PERSON = frozenset({"PERSON"})


def names(text: str, language: str = "en", source: str = "user", asked: bool = False,
          entities: tuple[tuple[int, int, str], ...] = ()) -> list[str]:
    """The names the engine keeps: at least MIN_SCORE, the longest of overlapping ones."""
    context = TextContext(PERSON if asked else frozenset(), entities, language, source)
    found = [d for d in RECOGNIZER.detect(text, context) if d.score >= MIN_SCORE]
    return [text[d.start : d.end] for d in resolve_overlaps(found)]


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "My name is Priya Raman and I need help", ["Priya Raman"]),
        ("en", "my name is tomasz wiśniewski", ["tomasz wiśniewski"]),
        ("en", "I'm Kofi Mensah", ["Kofi Mensah"]),
        ("en", "i'm jane", ["jane"]),
        ("en", "this is rahul from flat 4", ["rahul"]),
        ("en", "My name is Will", ["Will"]),
        ("en", "Name: Ana-Maria O'Neil", ["Ana-Maria O'Neil"]),
        ("en", "just call me Joe", ["Joe"]),
        ("de", "Mein Name ist Jürgen Hofstätter", ["Jürgen Hofstätter"]),
        ("de", "ich heiße lena wagner", ["lena wagner"]),
        ("de", "Hier ist Sabine Brandt, ich rufe wegen der Rechnung an", ["Sabine Brandt"]),
        ("de", "Hallo, hier ist Anja am Apparat", ["Anja"]),
        ("de", "Nachname: Zoller", ["Zoller"]),
        ("fr", "Bonjour, je m'appelle Camille Lefèvre", ["Camille Lefèvre"]),
        ("fr", "Je suis Mathieu Garnier, client depuis 2015", ["Mathieu Garnier"]),
        ("es", "Hola, me llamo Alejandro Ruiz", ["Alejandro Ruiz"]),
        ("es", "soy Lucía Fernández", ["Lucía Fernández"]),
        ("it", "Buongiorno, mi chiamo Giulia Conti", ["Giulia Conti"]),
        ("it", "sono Federico Rossi", ["Federico Rossi"]),
        ("nl", "Goedemorgen, ik heet Pieter de Vries", ["Pieter de Vries"]),
        ("nl", "met Joost van den Berg", ["Joost van den Berg"]),
        ("pl", "Dzień dobry, nazywam się Katarzyna Nowak", ["Katarzyna Nowak"]),
        ("pl", "jestem Tomasz Lewandowski", ["Tomasz Lewandowski"]),
    ],
)
def test_finds_introductions(language: str, text: str, found: list[str]) -> None:
    assert names(text, language) == found


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I'm frustrated with this"),
        ("en", "i'm looking for my order"),
        ("en", "I'm Canadian and I live abroad"),
        ("en", "this is ridiculous"),
        ("en", "call me back later"),
        ("en", "i'm frank with you, this is bad"),
        ("de", "ich bin müde"),
        ("de", "Ich bin Rentnerin und habe eine Frage"),
        ("de", "Das ist richtig so"),
        ("fr", "je suis désolé"),
        ("fr", "je suis très déçue"),
        ("es", "soy de Madrid"),
        ("es", "Soy cliente desde hace años"),
        ("it", "sono contento"),
        ("nl", "ik ben erg blij"),
        ("pl", "jestem zmęczony"),
    ],
)
def test_a_weak_cue_needs_a_name_after_it(language: str, text: str) -> None:
    assert names(text, language) == []


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "my wife harriet wants to be added", ["harriet"]),
        ("en", "yes or my husband ray will call", ["ray"]),
        ("en", "my brother Olumide will pick it up", ["Olumide"]),
        ("en", "can i add my wife also, Anjali?", ["Anjali"]),
        ("en", "can my mum collect it? her name is ngozi", ["ngozi"]),
        ("en", "a lady called Doreen stopped", ["Doreen"]),
        ("de", "Meine Frau Ingrid hat angerufen", ["Ingrid"]),
        ("de", "mein sohn lukas braucht eine neue karte", ["lukas"]),
        ("de", "von meiner frau snežana und etwas bargeld", ["snežana"]),
        ("de", "Mittwoch kann nur mein Mann, Jörg.", ["Jörg"]),
        ("de", "Er heißt Tobias Richter", ["Tobias Richter"]),
        ("fr", "mon mari Jean-Luc est absent", ["Jean-Luc"]),
        ("fr", "il s'appelle Théo", ["Théo"]),
        ("es", "mi esposa Carmen tiene la tarjeta", ["Carmen"]),
        ("es", "se llama Rocío", ["Rocío"]),
        ("it", "mia moglie Francesca ha chiamato", ["Francesca"]),
        ("nl", "mijn vrouw Marieke is thuis", ["Marieke"]),
        ("pl", "moja żona Ewa ma kartę", ["Ewa"]),
    ],
)
def test_finds_relatives_and_third_persons(language: str, text: str, found: list[str]) -> None:
    assert names(text, language) == found


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "my neighbour mrs okafor has the key", ["okafor"]),
        ("en", "I spoke with Dr. Abernethy yesterday", ["Abernethy"]),
        ("en", "tomorrow with doctor mbeki is fine", ["mbeki"]),
        ("de", "Guten Tag Herr Baumgartner, wie kann ich helfen?", ["Baumgartner"]),
        ("de", "Ich habe mit Frau Dr. Kessler gesprochen", ["Kessler"]),
        ("de", "Das Paket ist bei Familie Schneider", ["Schneider"]),
        ("de", "Danke, Frau Winter. Bis bald!", ["Winter"]),
        ("fr", "C'est madame Rousseau à l'appareil", ["Rousseau"]),
        ("es", "Gracias, señora Ortega.", ["Ortega"]),
        ("es", "hablé con don Ramón ayer", ["Ramón"]),
        ("it", "Grazie, signor Esposito.", ["Esposito"]),
        ("nl", "Dank u, meneer Bakker.", ["Bakker"]),
        ("pl", "Dziękuję, panie Marku.", ["Marku"]),
        ("pl", "Czy rozmawiam z panią Joanną Mazur?", ["Joanną Mazur"]),
    ],
)
def test_finds_the_name_after_a_title_not_the_title(language: str, text: str, found: list[str]) -> None:
    assert names(text, language) == found


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Die Frau am Schalter war unfreundlich"),
        ("de", "Können Sie das bitte an meine Frau schicken?"),
        ("en", "I miss Berlin so much"),
        ("en", "I need a doctor appointment"),
        ("pl", "czy pan ma numer klienta?"),
    ],
)
def test_a_title_word_alone_names_nobody(language: str, text: str) -> None:
    assert names(text, language) == []


@pytest.mark.parametrize(
    ("language", "source", "text", "found"),
    [
        ("en", "bot", "Thanks, Bartholomew. Your parcel is on its way.", ["Bartholomew"]),
        ("en", "agent", "Hi Ifeyinwa, Marguerite here from the claims team.", ["Ifeyinwa", "Marguerite"]),
        ("en", "bot", "Verified, Gurvinder ji. The transfer is pending.", ["Gurvinder"]),
        ("de", "bot", "Danke, Lieselotte! Bis Donnerstag.", ["Lieselotte"]),
        ("fr", "bot", "Merci Élodie, je vérifie.", ["Élodie"]),
        ("nl", "bot", "Genoteerd. Fijne dag, Femke!", ["Femke"]),
        ("es", "bot", "Gracias, Oksana. Hay cita el jueves.", ["Oksana"]),
    ],
)
def test_finds_names_greeted_or_thanked(language: str, source: str, text: str, found: list[str]) -> None:
    assert names(text, language, source) == found


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("de", "Bitte schicken Sie es an Annika Hoffmann", ["Annika Hoffmann"]),
        ("de", "Gebucht sind Sebastian Thielbeck und Derya Thielbeck.", ["Sebastian Thielbeck", "Derya Thielbeck"]),
        ("de", "Ansprechpartner Jörg Vogel, 0172 1234567", ["Jörg Vogel"]),
        ("en", "Dawn Kowalczyk 14/09/1958", ["Dawn Kowalczyk"]),
        ("en", "LTC-3390176 Donnacha Ó Súilleabháin", ["Donnacha Ó Súilleabháin"]),
        ("en", "Found it: Johannes van der Westhuizen on SC 325", ["Johannes van der Westhuizen"]),
        ("it", "Lorenzo Gatti, targa EZ 905 LM", ["Lorenzo Gatti"]),
        ("nl", "ja klopt, Femke van der Linden, Pijlsweerdstraat 19", ["Femke van der Linden"]),
        ("pl", "Przelew dla Agnieszka Wróblewska", ["Agnieszka Wróblewska"]),
        ("de", "Hat Jakob schon eine Versicherungsnummer?", ["Jakob"]),
        ("de", "Bitte bringen Sie Hannahs Versichertenkarte mit.", ["Hannahs"]),
    ],
)
def test_finds_full_names_and_known_given_names_without_a_cue(language: str, text: str, found: list[str]) -> None:
    assert names(text, language) == found


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "my bill doubled this month. to be frank its insane"),
        ("en", "yes! ur a real bargain hunter lol"),
        ("en", "I will send the photos tomorrow"),
        ("en", "May I ask something?"),
        ("en", "Summer Sale prices are not applied"),
        ("en", "I live on Hope Street"),
        ("en", "Victoria Station is the pickup point"),
        ("en", "at Shree Ganesh Auto Works, Magarpatta Road"),
        ("de", "ja im winter hatten wir die wärmepumpe neu"),
        ("de", "Im Winter ist die Rechnung immer höher"),
        ("de", "Ich habe im Juni eine Rechnung bekommen"),
        ("de", "Danke! Bitte warten Sie kurz."),
        ("de", "Servus! Wie kann ich helfen?"),
        ("de", "Moin, ich hab ne Frage zur Abrechnung"),
        ("de", "Grüezi, ich möchte umziehen"),
        ("de", "Und die IBAN des Tagesgeldkontos?"),
        ("de", "Wir waren bei Oma in Bremen"),
        ("de", "Der Termin ist am Dienstag zwischen 8 und 12 Uhr."),
        ("fr", "Bonjour et bienvenue chez Orange."),
        ("es", "Hola, bienvenido. ¿En qué puedo ayudarte?"),
        ("it", "Ciao, il pacco doveva arrivare a Milano ieri"),
        ("nl", "Hallo! Mijn pakket zou gisteren bezorgd worden"),
        ("pl", "Dzień dobry, paczka miała przyjść wczoraj"),
    ],
)
def test_ignores_words_that_look_like_names(language: str, text: str) -> None:
    assert names(text, language) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Hi, I'm Juniper, your virtual assistant."),
        ("en", "Hello, this is Sage from Acme Broadband."),
        ("en", "Good afternoon! You're chatting to Thandiwe, the assistant."),
        ("en", "Hi! Ember here from Brightwell Energy"),
        ("de", "Hallo, hier ist Kira von Netzfluss. Wie kann ich helfen?"),
        ("de", "Servus! Ich bin Gustl vom Donauhaus Versand."),
        ("fr", "Bonjour ! Je suis Lou, l'assistante."),
        ("nl", "Hoi! Ik ben Joep van Tulpbezorgd"),
    ],
)
def test_the_bot_introducing_itself_names_no_person(language: str, text: str) -> None:
    assert names(text, language, source="bot") == []


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "jane doe", ["jane doe"]),
        ("en", "Jane", ["Jane"]),
        ("en", "sure, it's jane doe.", ["jane doe"]),
        ("en", "hi! my name is maría garcía lópez", ["maría garcía lópez"]),
        ("en", "van der berg", ["van der berg"]),
        ("en", "yes summer okonkwo", ["summer okonkwo"]),
        ("en", "*Shufen sorry its one word", ["Shufen"]),
        ("en", "orla fitzgibbon 2/5/71", ["orla fitzgibbon"]),
        ("en", "gurpreet dhillon and the postal code is l six y", ["gurpreet dhillon"]),
        ("de", "reto zbinden", ["reto zbinden"]),
        ("de", "gerd müller", ["gerd müller"]),
        ("de", "ursula imboden das ist die vermieterin", ["ursula imboden"]),
        ("de", "jakob koller am elften märz", ["jakob koller"]),
        ("es", "maría josé castillo navarro", ["maría josé castillo navarro"]),
        ("pl", "tak krzysztof zając zgadza się", ["krzysztof zając"]),
        ("nl", "ja klopt, fenna wiersma", ["fenna wiersma"]),
    ],
)
def test_takes_the_answer_to_a_name_question(language: str, text: str, found: list[str]) -> None:
    assert names(text, language, asked=True) == found


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "why do you need it?"),
        ("en", "no"),
        ("en", "I'd rather not say"),
        ("en", "prefer not to say"),
        ("en", "agent please"),
        ("en", "no thats it cheers"),
        ("en", "12345"),
        ("en", "     "),
        ("de", "nein danke"),
        ("de", "Kunde"),
        ("fr", "pourquoi ?"),
    ],
)
def test_ignores_answers_that_are_no_names(language: str, text: str) -> None:
    assert names(text, language, asked=True) == []


@pytest.mark.parametrize(
    ("language", "asked", "text", "found"),
    [
        ("en", True, "its etienne lavoie l a v o i e", ["etienne lavoie", "l a v o i e"]),
        ("en", False, "ffion llewellyn thats f f i o n", ["ffion llewellyn", "f f i o n"]),
        ("en", False, "sahota s a h o t a", ["sahota", "s a h o t a"]),
        ("de", False, "auf mich kübra aydin also a y d i n", ["kübra aydin", "a y d i n"]),
        ("de", True, "o wie otto h wie heinrich m wie martha", ["o wie otto h wie heinrich m wie martha"]),
        ("en", True, "k as in kilo w a m e", ["k as in kilo w a m e"]),
    ],
)
def test_finds_spelled_names(language: str, asked: bool, text: str, found: list[str]) -> None:
    assert names(text, language, asked=asked) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Thanks Jane, I sent it to you.", "Jane"),
        ("Hello, I spoke with John Smith yesterday about the refund.", "John Smith"),
        ("Sarah Connor's order is late", "Sarah Connor"),
    ],
)
def test_takes_person_entities_from_ner(nlp: Language, text: str, found: str) -> None:
    [ents] = entities(nlp, [text])
    assert found in names(text, entities=ents)


def test_ignores_ner_entities_of_other_labels_and_model_mistakes() -> None:
    text = "Thanks Berlin 42, see the rental desk at Coastline Home"
    spans = ((7, 13, "GPE"), (0, 6, "PERSON"), (14, 16, "PERSON"), (26, 32, "PERSON"), (41, 55, "PERSON"))
    assert names(text, entities=spans) == []
