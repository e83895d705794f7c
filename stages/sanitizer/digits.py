"""Runs of digits as people type or say them: "415 555 0143", "four one five five five five", "double
five", "oh" for zero, "null eins sieben" (see `spoken`, in the conversation's language). A run's span is
what gets replaced, so a spelled-out number is replaced as a whole."""

from __future__ import annotations

import re

import msgspec

from stages.sanitizer.spoken import normalize

_SEPARATOR = r"(?:\s*[-.,/()]\s*|\s+)"
# A leading "+" or "(" belongs to the run ("+1 (415) 555", "(029) 2018"); so do parentheses between digits.
_RUN = re.compile(rf"(?<![\w+(])(?:\+\s?)?\(?\d+(?:{_SEPARATOR}\d+)*(?!\w)")


class DigitRun(msgspec.Struct, frozen=True):
    start: int
    end: int
    digits: str
    spelled: bool  # at least one digit was a word


def digit_runs(text: str, min_digits: int = 1, language: str = "en") -> list[DigitRun]:
    """Every run of digits and digit words with at least `min_digits` digits, left to right."""
    normalized = normalize(text, language)
    typed = normalized.text if normalized is not None else text
    runs = []
    for match in _RUN.finditer(typed):
        digits = "".join(c for c in match.group() if c.isdigit())
        if len(digits) < min_digits:
            continue
        if normalized is None:
            runs.append(DigitRun(match.start(), match.end(), digits, False))
        else:
            start, end = normalized.original_span(match.start(), match.end())
            runs.append(DigitRun(start, end, digits, normalized.changed(match.start(), match.end())))
    return runs
