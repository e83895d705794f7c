from __future__ import annotations

import pytest

from stages.sanitizer.digits import digit_runs


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("four one five, five five five, zero one four three", [("four one five, five five five, zero one four three",
                                                                 "4155550143", True)]),
        ("call double five oh one two", [("double five oh one two", "55012", True)]),
        ("oh ok, it's +1 (415) 555", [("+1 (415) 555", "1415555", False)]),
        ("(029) 2018", [("(029) 2018", "0292018", False)]),
        ("i have two kids", [("two", "2", True)]),
    ],
)
def test_runs_of_written_and_spoken_digits(text: str, runs: list[tuple[str, str, bool]]) -> None:
    assert [(text[r.start : r.end], r.digits, r.spelled) for r in digit_runs(text)] == runs


def test_a_minimum_of_digits() -> None:
    assert digit_runs("i have two kids", min_digits=2) == []
