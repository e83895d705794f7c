from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.answer import AnswerRecognizer, continuation
from stages.sanitizer.recognizers.base import Detection, TextContext

ALL = AnswerRecognizer(["PERSON", "ACCOUNT_NUMBER", "POSTAL_CODE", "STREET_ADDRESS", "EMAIL_ADDRESS",
                        "PHONE_NUMBER", "DATE_OF_BIRTH"])


def asked(*types: str, language: str = "en") -> TextContext:
    return TextContext(expected=frozenset(types), language=language, source="user")


@pytest.mark.parametrize(
    ("text", "types", "found", "entity_type", "language"),
    [
        ("okafor", ("PERSON",), "okafor", "PERSON", "en"),
        ("yes its tavita faleolo thanks", ("PERSON",), "tavita faleolo", "PERSON", "en"),
        ("ZQ-5038-B", ("ACCOUNT_NUMBER",), "ZQ-5038-B", "ACCOUNT_NUMBER", "en"),
        ("sure, my member number is qx 88 1302", ("ACCOUNT_NUMBER",), "qx 88 1302", "ACCOUNT_NUMBER", "en"),
        ("oh seven two one five", ("POSTAL_CODE",), "oh seven two one five", "POSTAL_CODE", "en"),
        ("Ja, das ist Brunnhuber", ("PERSON",), "Brunnhuber", "PERSON", "de"),
        ("meine Kundennummer lautet KX 4410 2957, danke", ("ACCOUNT_NUMBER",), "KX 4410 2957", "ACCOUNT_NUMBER", "de"),
        ("oui c'est Lemaire", ("PERSON",), "Lemaire", "PERSON", "fr"),
        ("sí, es Ibarrondo", ("PERSON",), "Ibarrondo", "PERSON", "es"),
        ("sì certo, è Bonfiglio", ("PERSON",), "Bonfiglio", "PERSON", "it"),
        ("ja het is Verhoeven", ("PERSON",), "Verhoeven", "PERSON", "nl"),
        ("tak, to Wiśniewska", ("PERSON",), "Wiśniewska", "PERSON", "pl"),
        # Several types asked: digits make it the numeric one.
        ("5038 2209", ("PERSON", "ACCOUNT_NUMBER"), "5038 2209", "ACCOUNT_NUMBER", "en"),
        ("Mirela Vuković", ("PERSON", "DATE_OF_BIRTH"), "Mirela Vuković", "PERSON", "en"),
        ("meenakshi rajan or my daughter can sign", ("PERSON",), "meenakshi rajan", "PERSON", "en"),
        ("vreni aeschbacher das ist meine Nachbarin", ("PERSON",), "vreni aeschbacher", "PERSON", "de"),
        ("nakamura n a k a m u r a", ("PERSON",), "nakamura n a k a m u r a", "PERSON", "en"),
        ("b wie berta r wie richard o wie otto", ("PERSON",), "b wie berta r wie richard o wie otto", "PERSON", "de"),
    ],
)
def test_a_bare_answer_is_the_asked_type(text: str, types: tuple[str, ...], found: str, entity_type: str,
                                         language: str) -> None:
    [detection] = ALL.detect(text, asked(*types, language=language))
    assert (text[detection.start : detection.end], detection.entity_type) == (found, entity_type)


@pytest.mark.parametrize(
    "text",
    [
        "why do you need that?",
        "i don't know",
        "hold on",
        "no",
        "sorry",
        "warum brauchen Sie das?",
        "keine Ahnung",
        "Moment bitte",
        "je ne sais pas",
        "pourquoi ?",
        "no sé",
        "un momento",
        "non lo so",
        "dat weet ik niet",
        "nie wiem",
        "I am not sure I want to give you that, I have been a customer for many years and never had to",
    ],
)
def test_no_value_no_answer(text: str) -> None:
    assert ALL.detect(text, asked("PERSON")) == []


def test_nothing_without_a_question_or_for_types_not_looked_for() -> None:
    assert ALL.detect("okafor", TextContext()) == []
    assert AnswerRecognizer(["EMAIL_ADDRESS"]).detect("okafor", asked("PERSON")) == []


@pytest.mark.parametrize(
    ("text", "entity_type", "found"),
    [("gmail.com", "EMAIL_ADDRESS", "gmail.com"), ("7741 02", "CREDIT_CARD", "7741 02"),
     ("Keegan", "PERSON", "Keegan"), ("XR", "VEHICLE_PLATE", "XR")],
)
def test_a_short_fragment_continues_a_value(text: str, entity_type: str, found: str) -> None:
    span = continuation(text, entity_type)
    assert span is not None and text[span[0] : span[1]] == found


@pytest.mark.parametrize(
    ("text", "entity_type"),
    [("thanks", "PERSON"), ("ok danke", "EMAIL_ADDRESS"), ("the rest later", "CREDIT_CARD"),
     ("visa", "CREDIT_CARD"), ("is that ok?", "PERSON"), ("and then what happens next", "PERSON")],
)
def test_other_messages_do_not_continue_it(text: str, entity_type: str) -> None:
    assert continuation(text, entity_type) is None


def test_what_the_recognizers_leave_of_an_answer_is_the_other_asked_value() -> None:
    text = "omar haddou fifth of may nineteen eighty"
    context = asked("PERSON", "DATE_OF_BIRTH")
    birth = Detection(12, 40, "DATE_OF_BIRTH", 0.9, "1980-05-05")
    [rest] = ALL.rest(text, context, [birth])
    assert (text[rest.start : rest.end], rest.entity_type) == ("omar haddou", "PERSON")
    # What is left of an answer whose only asked value was found is another value, not a second one of it.
    email = Detection(5, 22, "EMAIL_ADDRESS", 0.9, "lea.b@example.org")
    assert ALL.rest("it's lea.b@example.org or call 030 1234567", asked("EMAIL_ADDRESS"), [email]) == []
    # Talk around a value found is no value.
    passport = Detection(5, 13, "ID_DOCUMENT", 0.9, "Y7302461")
    assert AnswerRecognizer(["ID_DOCUMENT"]).rest("Pass Y7302461, danke", asked("ID_DOCUMENT", language="de"),
                                                  [passport]) == []


def test_a_short_answer_of_words_stands_whole_though_a_recognizer_found_a_part() -> None:
    text = "ilse sommer"  # "sommer" is a German word: a recognizer may take "ilse" alone
    found = [Detection(0, 4, "PERSON", 0.8, "ilse")]
    [whole] = ALL.rest(text, asked("PERSON", language="de"), found)
    assert text[whole.start : whole.end] == "ilse sommer"
