"""PHONE_NUMBER: libphonenumber's matcher over a few regions (configurable) and those of the conversation's
language; numbers with a country code are found whatever the region. Normalized to E.164. Spoken numbers
("null eins sieben ...") reach it typed (see `spoken`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from shared.errors import ConfigError
from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "PHONE_NUMBER"
DEFAULT_REGIONS = ("US", "GB", "DE", "FR")
VALID_SCORE = 0.9
VALID_EXPECTED_SCORE = 1.0
POSSIBLE_SCORE = 0.6
# Toll-free, premium-rate and shared-cost numbers belong to companies ("call us on 0800 ..."): a person's
# only when the bot asked for one.
_BUSINESS_TYPES = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN,
})

# Where numbers without a country code are also read, first: the countries that speak the conversation's
# language ("512 784 093" is a Polish mobile, "98471 20356" an Indian one).
LANGUAGE_REGIONS = {
    "en": ("US", "GB", "IE", "AU", "NZ", "CA", "IN", "ZA"), "de": ("DE", "AT", "CH", "LI", "LU"),
    "fr": ("FR", "BE", "CH", "LU", "CA"), "es": ("ES", "MX", "AR", "CO", "CL", "PE"), "it": ("IT", "CH", "SM"),
    "nl": ("NL", "BE"), "pl": ("PL",),
}
# Shorter digit strings are never phone numbers worth a matcher run (national numbers start at 7 digits)...
MIN_DIGITS = 7
# ...except with a country code: Greenland, the Faroes, Monaco have 6-digit numbers (+299 31 66 86).
MIN_INTERNATIONAL_DIGITS = 6
# Seven digits or more with at most a few separators between them: where a number may be.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
_INTERNATIONAL = re.compile(r"\s*(?:\+|00)")
# Words that make a number in the same text likely to be a phone number.
_CUE = re.compile(
    r"\b(?:phone|call|mobile|cell|tel|t[eé]l[eé](?:phon|fon)\w*|text\s+me|reach\s+me|whatsapp|fax|sms"
    r"|handy|mobil\w*|rufnummer|festnetz|anruf\w*|\w*rufen|r[üu]ckruf\w*|portable|r?appel\w*|m[óo]vil"
    r"|celular|ll[aá]m\w*|cellulare|chiam\w+|\w*bellen|bel\s+me|mobiel|kom[óo]rk\w*|\w*dzwo\w*)\b",
    re.IGNORECASE,
)


class PhoneRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("phone", "call", "mobi", "cell", "tel", "téléphone", "whatsapp", "fax", "reach", "text",
                     "sms", "handy", "rufnummer", "festnetz", "anruf", "portable", "móvil", "celular", "llam",
                     "chiam", "bellen", "komórk", "dzwo")
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not regions:
            raise ConfigError(f"phone regions must be ISO 3166 country codes libphonenumber knows, got {unknown}")
        self.regions = tuple(regions)
        # The language's countries first (in the configured order where configured), then the others.
        self._language_regions = {
            language: tuple(dict.fromkeys([*(r for r in self.regions if r in extra), *extra, *self.regions]))
            for language, extra in LANGUAGE_REGIONS.items()}

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        # VALID checks the number against each region's real number plan; POSSIBLE only checks its length,
        # which also accepts dates and order numbers, so it is used only when something says "phone".
        lenient = expected or _CUE.search(text) is not None
        regions = self._language_regions.get(context.language, self.regions)
        runs = [m.span() for m in _DIGIT_RUN.finditer(text)]
        if not runs:  # no number is short enough to hide from _DIGIT_RUN; the matcher is slow on every text
            return []
        leniency = phonenumbers.Leniency.POSSIBLE if lenient else phonenumbers.Leniency.VALID
        found: dict[tuple[int, int], Detection] = {}
        valid_spans: set[tuple[int, int]] = set()
        # A span read as a valid number in some region keeps that reading over a merely possible one;
        # otherwise the first region wins, so the order of `regions` is a preference. Once every run of
        # digits is a valid number, later regions cannot change anything: they are skipped (each is a
        # matcher run over the whole text).
        for region in regions:
            if all(any(s <= start and end <= e for s, e in valid_spans) for start, end in runs):
                break
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                number = match.number
                valid = phonenumbers.is_valid_number(number)
                span = (match.start, match.end)
                if span in valid_spans or (span in found and not valid) or not _long_enough(
                        number, match.raw_string, valid):
                    continue
                score = (VALID_EXPECTED_SCORE if expected else VALID_SCORE) if valid else POSSIBLE_SCORE
                if valid and phonenumbers.number_type(number) in _BUSINESS_TYPES:
                    valid_spans.add(span)
                    if span in found or not expected:  # possible as a person's number where read first
                        continue
                    score = POSSIBLE_SCORE
                if valid:
                    valid_spans.add(span)
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                found[span] = Detection(match.start, match.end, ENTITY_TYPE, score, e164)
        return list(found.values())

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


def _long_enough(number: phonenumbers.PhoneNumber, written: str, valid: bool) -> bool:
    digits = len(phonenumbers.national_significant_number(number))
    return digits >= MIN_DIGITS or (
        valid and digits >= MIN_INTERNATIONAL_DIGITS and _INTERNATIONAL.match(written) is not None)
