"""Numbers split across user turns: after "What's your phone number?", "415 555" then "0143". The digits
of the turns that answer one question are read together; if together they make a number of an asked
type that no single turn holds, each turn's digits are that number, with its normalized value (so every
part gets the same token)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stages.sanitizer.digits import digit_runs
from stages.sanitizer.recognizers.base import Detection
from stages.sanitizer.recognizers.credit_card import ENTITY_TYPE as CREDIT_CARD
from stages.sanitizer.recognizers.credit_card import MAX_DIGITS, MIN_DIGITS, luhn_valid
from stages.sanitizer.recognizers.phone import ENTITY_TYPE as PHONE_NUMBER
from stages.sanitizer.recognizers.us_ssn import ENTITY_TYPE as US_SSN
from stages.sanitizer.recognizers.us_ssn import valid_ssn

SCORE = 0.8
CONFIDENT = 0.9  # a turn that holds a value this sure on its own holds the whole value: nothing is split
MAX_PHONE_DIGITS = 15  # E.164

# The normalized value of the joined parts as each type, or None if they are not one. The parts are
# joined as written ("+44 (0)20 7946" "0958"), spelled-out parts as their digits.
Reader = Callable[[str], str | None]


def split_readers(phone_number: Reader) -> dict[str, Reader]:
    """The types a split answer may hold, each with its reader; `phone_number` reads a written number
    (regions matter, so the caller gives it)."""
    return {
        PHONE_NUMBER: lambda text: phone_number(text) if len(_digits(text)) <= MAX_PHONE_DIGITS else None,
        CREDIT_CARD: lambda text: _card(_digits(text)),
        US_SSN: lambda text: _digits(text) if valid_ssn(_digits(text)) else None,
    }


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(digits: str) -> str | None:
    return digits if MIN_DIGITS <= len(digits) <= MAX_DIGITS and luhn_valid(digits) else None


def split_values(
    answers: Sequence[tuple[str, Sequence[Detection]]], expected: frozenset[str], readers: dict[str, Reader],
    language: str = "en",
) -> list[list[Detection]] | None:
    """`answers`: the texts of the user turns that answer one question, in order, each with what was found
    in it on its own. Returns the detections of each turn if the turns hold one split value (they replace
    what was found of the same type on its own: "(029) 2018" alone is a possible number, but only part of
    the one given), else None. A type of which one turn holds a confident value on its own is not split."""
    runs = [digit_runs(text, language=language) for text, _ in answers]
    if sum(1 for turn in runs if turn) < 2:
        return None
    joined = " ".join(run.digits if run.spelled else text[run.start : run.end]
                      for (text, _), turn in zip(answers, runs, strict=True) for run in turn)
    for entity_type, read in readers.items():
        if entity_type not in expected or any(
                d.entity_type == entity_type and d.score >= CONFIDENT for _, found in answers for d in found):
            continue
        normalized = read(joined)
        if normalized is not None:
            return [[*(d for d in found if d.entity_type != entity_type),
                     *(Detection(run.start, run.end, entity_type, SCORE, normalized) for run in turn)]
                    for (_, found), turn in zip(answers, runs, strict=True)]
    return None
