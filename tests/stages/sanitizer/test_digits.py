from __future__ import annotations

import pytest

from stages.sanitizer.digits import digit_runs


@pytest.mark.parametrize(
    ("text", "language", "runs"),
    [
        ("four one five, five five five, zero one four three", "en",
         [("four one five, five five five, zero one four three", "4155550143", True)]),
        ("call double five oh one two", "en", [("double five oh one two", "55012", True)]),
        ("oh ok, it's +1 (415) 555", "en", [("+1 (415) 555", "1415555", False)]),
        ("(029) 2018", "en", [("(029) 2018", "0292018", False)]),
        ("i have two kids", "en", [("two", "2", True)]),
        ("meine nummer null eins sieben zwei", "de", [("null eins sieben zwei", "0172", True)]),
        ("zéro six douze", "fr", [("zéro six douze", "0612", True)]),
        ("seis uno cero", "es", [("seis uno cero", "610", True)]),
        ("tre tre nove", "it", [("tre tre nove", "339", True)]),
        ("nul zes vier", "nl", [("nul zes vier", "064", True)]),
        ("pięć zero jeden", "pl", [("pięć zero jeden", "501", True)]),
    ],
)
def test_runs_of_written_and_spoken_digits(text: str, language: str, runs: list[tuple[str, str, bool]]) -> None:
    assert [(text[r.start : r.end], r.digits, r.spelled) for r in digit_runs(text, language=language)] == runs


def test_a_minimum_of_digits() -> None:
    assert digit_runs("i have two kids", min_digits=2) == []


def test_words_of_another_language_are_no_digits() -> None:
    assert digit_runs("null eins sieben", language="en") == []
