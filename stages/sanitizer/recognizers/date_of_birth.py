"""DATE_OF_BIRTH: a date with a plausible birth year (1900 to last year) near a context word ("born",
"date of birth", "DOB") or in an answer to a bot question that asked for it; any other date (an order
date) is left alone. Numeric (03/14/1985, 14.03.1985, 1985-03-14) and written ("March 14, 1985",
"14th of March 1985"); an answer may leave out the year. Normalized to ISO 8601 (YYYY-MM-DD, or --MM-DD
without a year); a numeric date whose first two numbers could both be the month is read month first."""

from __future__ import annotations

import re
from datetime import date

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "DATE_OF_BIRTH"
DATE_SCORE = 0.3  # a date alone is no birth date: only a context word lifts it over the threshold
EXPECTED_SCORE = 0.9
FIRST_YEAR = 1900

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTH = (r"(?P<month_name>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_PATTERNS = [
    re.compile(r"(?<![\w/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>(?:19|20)?\d{2})(?![\w/-]|\.\d)"),
    re.compile(r"(?<![\w/.-])(?P<year>(?:19|20)\d{2})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\w/-])"),
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),
]


class DateOfBirthRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("born", "birth", "dob", "d.o.b", "bday", "b-day")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        found = []
        for pattern in _PATTERNS:
            for match in pattern.finditer(text):
                normalized = _birth_date(match, date.today().year)
                if normalized is None or (normalized.startswith("--") and not expected):
                    continue
                score = EXPECTED_SCORE if expected else DATE_SCORE
                found.append(Detection(match.start(), match.end(), ENTITY_TYPE, score, normalized))
        return found


def _birth_date(match: re.Match[str], this_year: int) -> str | None:
    """The ISO form of a plausible birth date, or None."""
    groups = match.groupdict()
    year = _year(groups["year"], this_year) if groups.get("year") else None
    if groups.get("month_name"):
        month, day = _MONTHS[groups["month_name"][:3].lower()], int(groups["day"])
    elif groups.get("month"):
        month, day = int(groups["month"]), int(groups["day"])
    else:
        first, second = int(groups["a"]), int(groups["b"])
        month, day = (first, second) if first <= 12 else (second, first)
    if year is not None and not FIRST_YEAR <= year < this_year:
        return None
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29 February without a year is a date
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def _year(text: str, this_year: int) -> int:
    if len(text) == 4:
        return int(text)
    # Two digits: the latest year ending so that is not in the future.
    year = 2000 + int(text)
    return year if year < this_year else year - 100
