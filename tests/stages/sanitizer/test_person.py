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
        ("de", "Nachname: Brunnhuber", ["Brunnhuber"]),
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
        ("en", "my wife rosamund needs a card too", ["rosamund"]),
        ("en", "yes or my husband ray will call", ["ray"]),
        ("en", "my brother Olumide will pick it up", ["Olumide"]),
        ("en", "please add my husband also, Deepak?", ["Deepak"]),
        ("en", "can my mum collect it? her name is ngozi", ["ngozi"]),
        ("en", "a woman called Maureen pulled over", ["Maureen"]),
        ("de", "Meine Frau Ingrid hat angerufen", ["Ingrid"]),
        ("de", "mein sohn lukas braucht eine neue karte", ["lukas"]),
        ("de", "von meiner frau snežana und etwas bargeld", ["snežana"]),
        ("de", "Am Freitag kann nur mein Mann, Henning.", ["Henning"]),
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
        ("en", "agent", "Hello Chiamaka, Genevieve here from the claims team.", ["Chiamaka", "Genevieve"]),
        ("en", "bot", "Done, Gurvinder ji. Your refund is on its way.", ["Gurvinder"]),
        ("de", "bot", "Danke, Lieselotte! Bis Donnerstag.", ["Lieselotte"]),
        ("fr", "bot", "Merci Élodie, je vérifie.", ["Élodie"]),
        ("nl", "bot", "Geregeld. Fijne avond, Anouk!", ["Anouk"]),
        ("es", "bot", "Gracias, Olena. La cita es el martes.", ["Olena"]),
    ],
)
def test_finds_names_greeted_or_thanked(language: str, source: str, text: str, found: list[str]) -> None:
    assert names(text, language, source) == found


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("de", "Bitte schicken Sie es an Annika Hoffmann", ["Annika Hoffmann"]),
        ("de", "Gebucht sind Moritz Hollenbach und Aylin Hollenbach.", ["Moritz Hollenbach", "Aylin Hollenbach"]),
        ("de", "Ansprechpartner Uwe Fuchs, 0176 7654321", ["Uwe Fuchs"]),
        ("en", "Joy Brzezinski 03/11/1962", ["Joy Brzezinski"]),
        ("en", "KMR-5184402 Ruairí Ó Ceallacháin", ["Ruairí Ó Ceallacháin"]),
        ("en", "Here it is: Pieter van der Westhuizen on SA 417", ["Pieter van der Westhuizen"]),
        ("it", "Matteo Lupi, targa FG 318 KD", ["Matteo Lupi"]),
        ("nl", "ja hoor, Sanne van der Heijden, Merelhofstraat 31", ["Sanne van der Heijden"]),
        ("pl", "Przelew dla Małgorzata Sikorska", ["Małgorzata Sikorska"]),
        ("de", "Hat Jonas schon eine Versicherungsnummer?", ["Jonas"]),
        ("de", "Bitte bringen Sie Hannahs Versichertenkarte mit.", ["Hannahs"]),
    ],
)
def test_finds_full_names_and_known_given_names_without_a_cue(language: str, text: str, found: list[str]) -> None:
    assert names(text, language) == found


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "the bill went up again. to be frank im fed up"),
        ("en", "haha ur such a bargain hunter"),
        ("en", "I will send the photos tomorrow"),
        ("en", "May I ask something?"),
        ("en", "Summer Sale prices are not applied"),
        ("en", "I live on Hope Street"),
        ("en", "Victoria Station is the pickup point"),
        ("en", "at Shree Krishna Auto Works, Kothrud Road"),
        ("de", "ja im winter lief die heizung kaum"),
        ("de", "Im Winter ist die Rechnung immer höher"),
        ("de", "Ich habe im Juni eine Rechnung bekommen"),
        ("de", "Danke! Bitte warten Sie kurz."),
        ("de", "Servus! Wie kann ich helfen?"),
        ("de", "Moin, ich hab ne Frage zur Abrechnung"),
        ("de", "Grüezi, ich möchte umziehen"),
        ("de", "Und wie lautet die IBAN vom Girokonto?"),
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
        ("en", "Good evening! You're talking to Zanele, the assistant."),
        ("en", "Hi! Rowan here from Harbourlight Energy"),
        ("de", "Hallo, hier ist Lina von Strahlnetz. Was kann ich für Sie tun?"),
        ("de", "Servus! Ich bin Sepp vom Alpenhof Versand."),
        ("fr", "Bonsoir ! Je suis Zoé, votre assistante."),
        ("nl", "Hoi! Ik ben Sem van Molenpakket"),
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
        ("en", "yes faith nwosu", ["faith nwosu"]),
        ("en", "*Xiulan, its all one word", ["Xiulan"]),
        ("en", "aoife halloran 9/3/68", ["aoife halloran"]),
        ("en", "harjit bains and the postcode is m four r", ["harjit bains"]),
        ("de", "urs aebischer", ["urs aebischer"]),
        ("de", "gerd müller", ["gerd müller"]),
        ("de", "regula wyssbrod das ist meine vermieterin", ["regula wyssbrod"]),
        ("de", "lukas gruber am neunten april", ["lukas gruber"]),
        ("es", "ana belén moreno quintana", ["ana belén moreno quintana"]),
        ("pl", "tak, wojciech wróbel, wszystko się zgadza", ["wojciech wróbel"]),
        ("nl", "ja hoor, sytske bouma", ["sytske bouma"]),
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
        ("en", True, "its benoit tremblay t r e m b l a y", ["benoit tremblay", "t r e m b l a y"]),
        ("en", False, "carys morgan thats c a r y s", ["carys morgan", "c a r y s"]),
        ("en", False, "grewal g r e w a l", ["grewal", "g r e w a l"]),
        ("de", False, "auf mich elif yilmaz also y i l m a z", ["elif yilmaz", "y i l m a z"]),
        ("de", True, "b wie berta u wie ulrich g wie gustav", ["b wie berta u wie ulrich g wie gustav"]),
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
    text = "Thanks Berlin 42, see the rental desk at Harbour Living"
    spans = ((7, 13, "GPE"), (0, 6, "PERSON"), (14, 16, "PERSON"), (26, 32, "PERSON"), (41, 55, "PERSON"))
    assert names(text, entities=spans) == []
