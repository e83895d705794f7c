"""POSTAL_CODE: postal codes outside a full street address. UK postcodes ("SW1A 1AA") and Canadian ones
("K1A 0B1") have a shape of their own; a US ZIP+4 ("62704-1234") is likely one; five bare digits (a US
ZIP code, a German PLZ) are one only near a context word ("zip", "postcode") or when the bot asked for
one. Normalized to upper case without spaces."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "POSTAL_CODE"
SHAPED_SCORE = 0.6
BARE_SCORE = 0.2
EXPECTED_SCORE = 0.9

# UK postcodes, Canadian postal codes, US ZIP+4.
_SHAPED = re.compile(
    r"(?<![\w-])(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d{5}-\d{4})(?![\w-])",
    re.IGNORECASE,
)
_BARE = re.compile(r"(?<![\w$€£.,:/-])\d{5}(?![\w%:/-]|[.,]\d)")


class PostalCodeRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("zip", "postcode", "postal", "post", "plz")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        found = [
            _detection(m, EXPECTED_SCORE if expected else SHAPED_SCORE)
            for m in _SHAPED.finditer(text)
            # Written in lower case, a shape alone says little ("b12 3cd" in a product code).
            if expected or m.group() == m.group().upper()
        ]
        found += [_detection(m, EXPECTED_SCORE if expected else BARE_SCORE) for m in _BARE.finditer(text)]
        return found


def _detection(match: re.Match[str], score: float) -> Detection:
    return Detection(match.start(), match.end(), ENTITY_TYPE, score, re.sub(r"\s", "", match.group()).upper())
