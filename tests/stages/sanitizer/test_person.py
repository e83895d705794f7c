from __future__ import annotations

import pytest
from spacy.language import Language

from stages.sanitizer.ner import entities
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.person import PersonRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"PERSON"}))


def names(text: str, context: TextContext) -> list[str]:
    return [text[d.start : d.end] for d in PersonRecognizer().detect(text, context)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("My name is Jane Doe and I need help", ["Jane Doe"]),
        ("my name is jane doe", ["jane doe"]),
        ("hi, this is Bob from accounting", ["Bob"]),
        ("this is mary", ["mary"]),
        ("I'm Peter Parker.", ["Peter Parker"]),
        ("i'm jane", ["jane"]),
        ("My name is Will", ["Will"]),
        ("Name: Ana-Maria O'Neil", ["Ana-Maria O'Neil"]),
        ("just call me Joe", ["Joe"]),
    ],
)
def test_finds_introductions_without_context(text: str, found: list[str]) -> None:
    assert names(text, NO_CONTEXT) == found


@pytest.mark.parametrize(
    "text",
    [
        "I'm frustrated with this",
        "i'm looking for my order",
        "this is a problem",
        "this is ridiculous",
        "I am not sure",
        "call me back later",
        "it's broken",
        "jane doe",  # a name, but nothing says so without context or NER
    ],
)
def test_ignores_ordinary_phrases(text: str) -> None:
    assert names(text, NO_CONTEXT) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("jane doe", ["jane doe"]),
        ("Jane", ["Jane"]),
        ("sure, it's jane doe.", ["jane doe"]),
        ("hi! my name is maría garcía lópez", ["maría garcía lópez"]),
        ("van der berg", ["van der berg"]),
    ],
)
def test_takes_the_answer_to_a_name_question(text: str, found: list[str]) -> None:
    assert sorted(set(names(text, ASKED))) == found


@pytest.mark.parametrize(
    "text",
    ["why do you need it?", "no", "I'd rather not say", "agent please", "12345", "     "],
)
def test_ignores_answers_that_are_no_names(text: str) -> None:
    assert names(text, ASKED) == []


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
    assert found in names(text, TextContext(entities=ents))


def test_ignores_ner_entities_of_other_labels_and_model_mistakes() -> None:
    text = "Thanks Berlin 42"
    context = TextContext(entities=((7, 13, "GPE"), (0, 6, "PERSON"), (14, 16, "PERSON")))
    assert names(text, context) == []
