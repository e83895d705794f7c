from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.us_ssn import UsSsnRecognizer, valid_ssn

from .recognizing import kept

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"US_SSN"}))
RECOGNIZER = UsSsnRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[tuple[str, str]]:
    return kept(RECOGNIZER, text, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 219-09-9998", [("219-09-9998", "219099998")]),
        ("it's 536 22 1234", [("536 22 1234", "536221234")]),
        ("my social security number is 536221234", [("536221234", "536221234")]),  # a context word
        ("nine bare digits 536221234", []),  # no context: an order number as likely
    ],
)
def test_finds_ssns_by_shape_and_context(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("digits", ["000123456", "666123456", "900123456", "123001234", "123450000", "123456789"])
def test_numbers_outside_the_issued_ranges_are_no_ssns(digits: str) -> None:
    assert not valid_ssn(digits)
    formatted = f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    assert found(f"SSN {formatted}") == []


def test_spelled_out_when_asked() -> None:
    text = "five three six two two one two three four"
    assert found(text) == []
    assert found(text, ASKED) == [(text, "536221234")]
