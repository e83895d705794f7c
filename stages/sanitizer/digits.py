"""Runs of digits as people type or say them: "415 555 0143", "four one five, five five five",
"double five", "oh" for zero. Numeric recognizers validate the digits of a run; its span is what gets
replaced, so a spelled-out phone number is replaced as a whole."""

from __future__ import annotations

import re

import msgspec

_WORD_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_REPEATS = {"double": 2, "triple": 3}
# "oh" and "o" are zero only between other digits: "oh ok" and "o'clock" are no numbers.
_WEAK_ZEROS = frozenset({"oh", "o"})
_DIGIT_WORD = "|".join(sorted(_WORD_DIGITS, key=len, reverse=True))
_ITEM = rf"(?:\d+|(?:(?:double|triple)\s+)?(?:{_DIGIT_WORD}))"
_SEPARATOR = r"(?:\s*[-.,/()]\s*|\s+)"
# A leading "+" or "(" belongs to the run ("+1 (415) 555", "(029) 2018"); so do parentheses between digits.
_RUN = re.compile(rf"(?<![\w+(])(?:\+\s?)?\(?{_ITEM}(?:{_SEPARATOR}{_ITEM})*(?!\w)", re.IGNORECASE)
_PART = re.compile(rf"\d+|(?:(?P<repeat>double|triple)\s+)?(?P<word>{_DIGIT_WORD})", re.IGNORECASE)


class DigitRun(msgspec.Struct, frozen=True):
    start: int
    end: int
    digits: str
    spelled: bool  # at least one digit was a word


def digit_runs(text: str, min_digits: int = 1) -> list[DigitRun]:
    """Every run of digits and digit words with at least `min_digits` digits, left to right."""
    runs = []
    for match in _RUN.finditer(text):
        parts = list(_PART.finditer(text, match.start(), match.end()))
        # Trim weak zeros at the edges: "oh, 415 555 0143" starts at 415.
        while parts and _is_weak_zero(parts[0]):
            parts.pop(0)
        while parts and _is_weak_zero(parts[-1]):
            parts.pop()
        digits = "".join(_digits(p) for p in parts)
        if len(digits) >= min_digits:
            spelled = any(p.group("word") for p in parts)
            start = parts[0].start()
            if not text[match.start() : start].strip("+( "):
                start = match.start()
            runs.append(DigitRun(start, parts[-1].end(), digits, spelled))
    return runs


def _is_weak_zero(part: re.Match[str]) -> bool:
    word = part.group("word")
    return word is not None and part.group("repeat") is None and word.lower() in _WEAK_ZEROS


def _digits(part: re.Match[str]) -> str:
    word = part.group("word")
    if word is None:
        return part.group()
    repeat = part.group("repeat")
    return _WORD_DIGITS[word.lower()] * (_REPEATS[repeat.lower()] if repeat else 1)
