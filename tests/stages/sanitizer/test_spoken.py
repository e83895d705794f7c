from __future__ import annotations

import pytest

from shared.user_patterns import UserPattern
from stages.sanitizer.recognizers.base import Recognizer, TextContext
from stages.sanitizer.recognizers.credit_card import CreditCardRecognizer
from stages.sanitizer.recognizers.email import EmailRecognizer
from stages.sanitizer.recognizers.iban import IbanRecognizer
from stages.sanitizer.recognizers.pattern import PatternRecognizer
from stages.sanitizer.recognizers.phone import PhoneRecognizer
from stages.sanitizer.spoken import normalize, spoken_detections

EMAIL = frozenset({"EMAIL_ADDRESS"})


def typed(text: str, language: str, expected: frozenset[str] = frozenset()) -> str:
    normalized = normalize(text, language, expected)
    return text if normalized is None else normalized.text


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "its five three one oh two", "its 53102"),
        ("en", "double seven triple oh four", "770004"),
        ("en", "nine oh four two oh", "90420"),  # "oh" at either end of a run is zero
        ("en", "born nineteen sixty three", "born 1963"),
        ("en", "sixteen forty nine willow lane", "1649 willow lane"),
        ("en", "two thousand and eleven", "2011"),
        ("en", "one hundred twenty three", "123"),
        ("en", "on may thirty first", "on may 31st"),
        ("en", "eight one two, four four seven, six six three oh", "8124476630"),
        ("en", "born in two thousand and one", "born in 2001"),
        ("en", "three, six or twelve months", "3, 6 or 12 months"),  # a list, not one number
        ("en", "its 7 3 4 1 9 0 2 2", "its 73419022"),  # single digits as speech to text may write them
        ("en", "plus three five three eight seven", "+35387"),
        ("de", "null drei null vier sieben eins", "030471"),
        ("de", "zwo drei zwo", "232"),
        ("de", "hausnummer siebenundachtzig", "hausnummer 87"),
        ("de", "neunzehnhundertdreiundsechzig", "1963"),
        ("de", "vierter siebter neunzehnhundertzweiundachtzig", "4.7.1982"),
        ("de", "am zweiundzwanzigsten mai", "am 22. mai"),
        ("de", "fuenf fuenf null", "550"),
        ("fr", "zéro sept quatre-vingt-dix-neuf soixante et onze", "079971"),
        ("fr", "soixante-dix-sept", "77"),
        ("fr", "zéro six, quinze, quarante-deux, dix-neuf, quatre-vingts", "0615421980"),
        ("fr", "mille neuf cent quatre-vingt-cinq", "1985"),
        ("es", "seis dos cero cuatro cuatro", "62044"),
        ("es", "cuarenta y siete", "47"),
        ("es", "mil novecientos setenta y tres", "1973"),
        ("es", "dieciocho veintidós", "1822"),
        ("it", "tre quattro sette sei sei", "34766"),
        ("it", "millenovecentottantuno", "1981"),
        ("it", "ventitré", "23"),
        ("nl", "nul zes een twee drie", "06123"),
        ("nl", "negenenveertig", "49"),
        ("nl", "negentienhonderdvijfenzeventig", "1975"),
        ("pl", "dwadzieścia jeden", "21"),
        ("pl", "sześć zero dwa osiem", "6028"),
        ("pl", "tysiąc dziewięćset siedemdziesiątego szóstego", "1976"),
    ],
)
def test_spoken_numbers_become_digits(language: str, text: str, expected: str) -> None:
    assert typed(text, language) == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "one of them was broken"),
        ("en", "i have a car and a bike"),
        ("en", "oh ok thanks"),
        ("en", "my first name is on the form"),
        ("en", "the elf on the shelf"),  # German eleven, an English word
        ("en", "i want the first one"),
        ("en", "rate it 1 2 3"),
        ("en", "Dayton OH 45409"),  # a state, not a zero
        ("de", "ein laptop und eine tasche"),
        ("de", "von meinem neuen konto"),
        ("de", "es wie sonst machen"),
        ("de", "das wollen wir beachten"),
        ("fr", "un ami a une voiture neuf"),
        ("es", "una vez a la semana"),
        ("en", "once upon a time"),  # Spanish eleven, an English word
        ("it", "sei tu e io"),
        ("it", "un bambino di buon umore"),
        ("nl", "een auto en een fiets"),
        ("pl", "w domu z tobą"),
    ],
)
def test_number_and_letter_words_that_are_ordinary_words_stay(language: str, text: str) -> None:
    assert typed(text, language) == text


def test_number_words_are_read_in_the_conversations_language_only() -> None:
    assert typed("elf", "de") == "11"
    assert typed("once", "es") == "11"
    assert typed("vier vijf zes", "en") == "vier vijf zes"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "thats f i n l e y", "thats FINLEY"),
        ("en", "k as in kilo seven d for delta", "K7D"),
        ("en", "victor four two charlie hotel", "V42CH"),
        ("en", "postcode e c one a four j q", "postcode EC1A4JQ"),
        ("en", "nine two seven three one five six h a", "9273156HA"),  # check letters end the id
        ("en", "postcode n w one a six x a", "postcode NW1A6XA"),
        ("de", "b wie berta r wie richard z wie zeppelin", "BRZ"),
        ("de", "m u e double l e r", "MUELLER"),
        ("de", "d e null zwei", "DE02"),
        ("fr", "m comme marcel deux b", "M2B"),
        ("es", "equis siete ele cuatro", "X7L4"),
        ("es", "cinco cuatro tres dos uno cero nueve ocho e", "54321098E"),
        ("it", "erre emme esse due di tre", "RMS2D3"),
        ("it", "acca kappa tre", "HK3"),
        ("nl", "pee tee zeven", "PT7"),
        ("pl", "ka el dwa zet", "KL2Z"),
    ],
)
def test_spelled_letters_become_letters(language: str, text: str, expected: str) -> None:
    assert typed(text, language) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "its priya dot pillai eighty two at hotmail dot co dot uk", "its priya.pillai82@hotmail.co.uk"),
        ("en", "tom underscore baker at icloud dot com", "tom_baker@icloud.com"),
        ("en", "j dash lee at example dot org", "j-lee@example.org"),
        ("de", "lena punkt vogt at gmx punkt de", "lena.vogt@gmx.de"),
        ("de", "meine adresse ist max klammeraffe posteo punkt de", "meine adresse ist max@posteo.de"),
        ("fr", "claire point martin arobase orange point fr", "claire.martin@orange.fr"),
        ("es", "pablo punto ruiz arroba yahoo punto es", "pablo.ruiz@yahoo.es"),
        ("it", "giulia punto bianchi chiocciola libero punto it", "giulia.bianchi@libero.it"),
        ("nl", "sanne punt jansen apenstaartje ziggo punt nl", "sanne.jansen@ziggo.nl"),
        ("pl", "marta kropka nowak małpa onet kropka pl", "marta.nowak@onet.pl"),
        ("en", "ravi@rediffmail dot com", "ravi@rediffmail.com"),
        ("en", "suresh at the rate yahoo dot co dot in", "suresh@yahoo.co.in"),
        ("en", "k dot o apostrophe neill at eircom dot net", "k.o'neill@eircom.net"),
        ("en", "s m i t h dot j at gmail dot com", "smith.j@gmail.com"),
        ("it", "la mia è luca punto neri chiocciola alice punto it", "la mia è luca.neri@alice.it"),
    ],
)
def test_spoken_email_addresses_become_typed(language: str, text: str, expected: str) -> None:
    assert typed(text, language) == expected


@pytest.mark.parametrize(
    "text",
    [
        "look at google dot com",  # no e-mail in sight
        "i was at home",
        "we meet at nine",
        "see you at boynelink.ie/help",
    ],
)
def test_at_is_an_at_sign_only_in_an_address(text: str) -> None:
    assert "@" not in typed(text, "en")


def test_a_plain_at_needs_something_that_says_email() -> None:
    assert typed("sam at gmail dot com", "en") == "sam at gmail dot com"
    assert typed("sam at gmail dot com", "en", EMAIL) == "sam@gmail.com"
    assert typed("my email sam at gmail dot com", "en") == "my email sam@gmail.com"


def test_offsets_map_back_to_every_spoken_word() -> None:
    text = "call me on oh seven seven double nine please"
    normalized = normalize(text, "en")
    assert normalized is not None
    assert normalized.text == "call me on 07799 please"
    start = normalized.text.index("0")
    assert text[slice(*normalized.original_span(start, start + 5))] == "oh seven seven double nine"
    assert not normalized.changed(0, 4)
    assert normalized.normalized_span(0, 4) == (0, 4)
    spoken = text.index("seven")
    assert normalized.text[slice(*normalized.normalized_span(spoken, spoken + 5))] == "7"


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "sure its oh seven nine four six one two three eight five one", "oh seven nine four six one two "
                                                                            "three eight five one"),
        ("de", "null eins fünf zwei drei vier fünf sechs sieben acht neun", "null eins fünf zwei drei vier fünf "
                                                                           "sechs sieben acht neun"),
        ("it", "tre tre tre uno due tre quattro cinque sei sette", "tre tre tre uno due tre quattro cinque sei "
                                                                  "sette"),
        ("pl", "mój numer to sześć zero dwa trzy cztery pięć sześć siedem osiem", "sześć zero dwa trzy cztery "
                                                                                  "pięć sześć siedem osiem"),
    ],
)
def test_recognizers_find_spoken_phone_numbers(language: str, text: str, found: str) -> None:
    detections = spoken_detections(text, TextContext(language=language), [PhoneRecognizer()])
    assert [text[d.start : d.end] for d in detections] == [found]


def test_recognizers_find_spoken_cards_ibans_and_addresses() -> None:
    recognizers: list[Recognizer] = [CreditCardRecognizer(), IbanRecognizer(), EmailRecognizer()]
    card = "four five three two zero one five one one two eight three zero three six six"
    [found] = spoken_detections(f"the card is {card}", TextContext(language="en"), recognizers)
    assert (found.entity_type, found.normalized) == ("CREDIT_CARD", "4532015112830366")
    iban = ("d e acht neun drei sieben null vier null null vier vier null fünf drei zwei null eins drei null"
            " null null")
    [found] = spoken_detections(f"meine iban ist {iban}", TextContext(language="de"), recognizers)
    assert (found.entity_type, found.normalized) == ("IBAN_CODE", "DE89370400440532013000")
    text = "anna punkt weber at web punkt de"
    [found] = spoken_detections(text, TextContext(language="de"), recognizers)
    assert (text[found.start : found.end], found.normalized) == (text, "anna.weber@web.de")


@pytest.mark.parametrize(
    ("language", "text", "spelled"),
    [
        ("en", "its layla mansour m a n s o u r", "m a n s o u r"),
        ("de", "ich bin jens wolter also w o l t e r", "w o l t e r"),
        ("it", "sono ugo ferri effe e erre erre i", "effe e erre erre i"),
    ],
)
def test_a_word_spelled_after_it_was_said_is_what_the_word_is(language: str, text: str, spelled: str) -> None:
    surname = PatternRecognizer("PERSON", UserPattern(r"(?<= )(?:mansour|wolter|ferri)\b"))
    found = spoken_detections(text, TextContext(language=language), [surname])
    assert [(text[d.start : d.end], d.entity_type) for d in found] == [(spelled, "PERSON")]


def test_what_needs_no_rewriting_is_found_once() -> None:
    text = "mail anna@web.de or call four one five"
    assert spoken_detections(text, TextContext(), [EmailRecognizer()]) == []
    assert normalize("nothing spoken here 123", "en") is None
