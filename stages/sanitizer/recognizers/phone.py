"""PHONE_NUMBER: libphonenumber's matcher over a few default regions; numbers with a country code are
found whatever the region. Normalized to E.164."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "PHONE_NUMBER"
DEFAULT_REGIONS = ("US", "GB", "DE", "FR")
VALID_SCORE = 0.9
VALID_EXPECTED_SCORE = 1.0
POSSIBLE_SCORE = 0.6

# Shorter digit strings are never phone numbers worth a matcher run (national numbers start at 7 digits).
MIN_DIGITS = 7
_DIGIT = re.compile(r"\d")
# Words that make a number in the same text likely to be a phone number.
_CUE = re.compile(r"\b(?:phone|call|mobile|cell|tel|telephone|text\s+me|reach\s+me|whatsapp|fax)\b", re.I)


class PhoneRecognizer:
    entity_type = ENTITY_TYPE

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(regions)

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        if len(_DIGIT.findall(text)) < MIN_DIGITS:
            return []
        expected = ENTITY_TYPE in context.expected
        # VALID checks the number against each region's real number plan; POSSIBLE only checks its length,
        # which also accepts dates and order numbers, so it is used only when something says "phone".
        lenient = expected or _CUE.search(text) is not None
        leniency = phonenumbers.Leniency.POSSIBLE if lenient else phonenumbers.Leniency.VALID
        found: dict[tuple[int, int], Detection] = {}
        # A span read as a valid number in some region keeps that reading over a merely possible one;
        # otherwise the first region wins, so the order of `regions` is a preference.
        for region in self.regions:
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
