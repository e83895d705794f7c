from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.date_of_birth import DateOfBirthRecognizer

from .recognizing import kept

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"DATE_OF_BIRTH"}))
RECOGNIZER = DateOfBirthRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[tuple[str, str]]:
    return kept(RECOGNIZER, text, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was born on March 14, 1985", [("March 14, 1985", "1985-03-14")]),
        ("DOB: 03/14/1985", [("03/14/1985", "1985-03-14")]),
        ("date of birth 14.03.1985", [("14.03.1985", "1985-03-14")]),
        ("birthday 1985-03-14", [("1985-03-14", "1985-03-14")]),
        ("born the 4th of July 1976", [("4th of July 1976", "1976-07-04")]),
        ("born 3/4/85", [("3/4/85", "1985-03-04")]),  # month first when both could be
    ],
)
def test_a_date_near_a_birth_word(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    ["my order from March 14, 2026 is late", "delivered 03/14/1985", "born 31/02/1985", "born in 2199-01-01",
     "born March 14"],
)
def test_other_dates_are_no_birth_dates(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "normalized"),
    [("it's 14 March 1985", "1985-03-14"), ("march 14", "--03-14"), ("02/29/1992", "1992-02-29")],
)
def test_an_answer_to_a_birth_date_question(text: str, normalized: str) -> None:
    assert [n for _, n in found(text, ASKED)] == [normalized]
