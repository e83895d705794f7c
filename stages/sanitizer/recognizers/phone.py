"""PHONE_NUMBER: libphonenumber's matcher over a few regions (configurable); numbers with a country code
are found whatever the region. Spelled-out numbers ("four one five, five five five ...") count where
something says phone. Normalized to E.164."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from shared.errors import ConfigError
from stages.sanitizer.digits import digit_runs
from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "PHONE_NUMBER"
DEFAULT_REGIONS = ("US", "GB", "DE", "FR")
VALID_SCORE = 0.9
VALID_EXPECTED_SCORE = 1.0
POSSIBLE_SCORE = 0.6

# Shorter digit strings are never phone numbers worth a matcher run (national numbers start at 7 digits).
MIN_DIGITS = 7
# Seven digits or more with at most a few separators between them: where a number may be.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
# Words that make a number in the same text likely to be a phone number.
_CUE = re.compile(r"\b(?:phone|call|mobile|cell|tel|telephone|text\s+me|reach\s+me|whatsapp|fax)\b", re.I)


class PhoneRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("phone", "call", "mobile", "cell", "tel", "telephone", "whatsapp", "fax", "reach", "text")
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not regions:
            raise ConfigError(f"phone regions must be ISO 3166 country codes libphonenumber knows, got {unknown}")
        self.regions = tuple(regions)

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        # VALID checks the number against each region's real number plan; POSSIBLE only checks its length,
        # which also accepts dates and order numbers, so it is used only when something says "phone".
        lenient = expected or _CUE.search(text) is not None
        found = self._written(text, expected, lenient)
        if lenient:
            found += self._spelled(text)
        return found

    def _written(self, text: str, expected: bool, lenient: bool) -> list[Detection]:
        runs = [m.span() for m in _DIGIT_RUN.finditer(text)]
        leniency = phonenumbers.Leniency.POSSIBLE if lenient else phonenumbers.Leniency.VALID
        found: dict[tuple[int, int], Detection] = {}
        # A span read as a valid number in some region keeps that reading over a merely possible one;
        # otherwise the first region wins, so the order of `regions` is a preference. Once every run of
        # digits is a valid number, later regions cannot change anything: they are skipped (each is a
        # matcher run over the whole text).
        for region in self.regions:
            if all(any(d.start <= start and end <= d.end and d.score >= VALID_SCORE for d in found.values())
                   for start, end in runs):
                break
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                number = match.number
                if len(phonenumbers.national_significant_number(number)) < MIN_DIGITS:
                    continue
                if phonenumbers.is_valid_number(number):
                    score = VALID_EXPECTED_SCORE if expected else VALID_SCORE
                else:
                    score = POSSIBLE_SCORE
                span = (match.start, match.end)
                previous = found.get(span)
                if previous is not None and previous.score >= score:
                    continue
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                found[span] = Detection(match.start, match.end, ENTITY_TYPE, score, e164)
        return list(found.values())

    def _spelled(self, text: str) -> list[Detection]:
        found = []
        for run in digit_runs(text, MIN_DIGITS):
            if run.spelled:
                e164 = self.possible_number(run.digits)
                if e164 is not None:
                    found.append(Detection(run.start, run.end, ENTITY_TYPE, POSSIBLE_SCORE, e164))
        return found

    def possible_number(self, written: str) -> str | None:
        """The E.164 form of a number as written ("+44 (0)20 7946 0958", "4155550143") read in the first
        region where it is a possible number."""
        for region in self.regions:
            try:
                number = phonenumbers.parse(written, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return None
