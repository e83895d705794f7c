from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.postal_code import PostalCodeRecognizer

from .recognizing import kept

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"POSTAL_CODE"}))
RECOGNIZER = PostalCodeRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[tuple[str, str]]:
    return kept(RECOGNIZER, text, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("London SW1A 1AA", [("SW1A 1AA", "SW1A1AA")]),
        ("Ottawa K1A 0B1", [("K1A 0B1", "K1A0B1")]),
        ("Springfield 62704-1234", [("62704-1234", "62704-1234")]),
        ("my zip code is 94105", [("94105", "94105")]),  # five digits: a context word says so
        ("PLZ 10115 Berlin", [("10115", "10115")]),
        ("ordered 94105 units", []),
        ("total $12345", []),
        ("sw1a 1aa", []),  # lower case: too little to go on
    ],
)
def test_finds_postal_codes(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("text", "normalized"), [("94105", "94105"), ("it's sw1a 1aa", "SW1A1AA")])
def test_an_answer_to_a_postcode_question(text: str, normalized: str) -> None:
    assert [n for _, n in found(text, ASKED)] == [normalized]
