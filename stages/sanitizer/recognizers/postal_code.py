"""POSTAL_CODE: the postal codes of the countries the sanitizer serves. On an address line (see `address`:
after a street, before its town or after it, "93047 Regensburg", "Penrith NSW 2750", "Leeds, LS7 4RJ")
any format counts. Alone, codes with a shape of their own count when written in capitals (UK "SW1A 2AA",
Canada "K2P 1L4", Ireland's Eircode "D02 X285", US ZIP+4 "62704-1234", Dutch "1234 AB"). A bare number
(a US ZIP, a German, French, Spanish or Italian five-digit code, the four digits of Austria, Switzerland,
Denmark, Norway, Belgium, Australia, South Africa or New Zealand, an Indian six-digit PIN, a Polish
"61-245", a Swedish, Czech, Slovak or Greek "113 51") and a code typed in lower case or spelled out ("r g 1 3 j
x") count only after a cue ("zip",
"PLZ", "code postal", "código postal", "CAP", "postcode", "kod pocztowy", "pin code") or when the bot
asked for a postal code. Normalized to upper case without spaces."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.address import POSTAL_SHAPE, postal_at
from stages.sanitizer.recognizers.address_block import address_parts
from stages.sanitizer.recognizers.base import Detection, TextContext
from stages.sanitizer.recognizers.cues import cue_spans, near_cue

ENTITY_TYPE = "POSTAL_CODE"
LINE_SCORE = 0.8
SHAPED_SCORE = 0.6
CUE_SCORE = 0.8
EXPECTED_SCORE = 0.9
CUE_WORDS_BEFORE = 5
CUE_WORDS_AFTER = 3  # "93047 ist meine PLZ"

_CUE = re.compile(
    r"\b(?:zip(?:\s*code)?|post\s*code|postal\s+code|postleitzahl|plz|code\s+postal|c\.?p\.?|"
    r"c[oó]digo\s+postal|codice\s+postale|c\.?a\.?p\.?|kod(?:u|em)?\s+pocztow\w*|pin\s*code|pincode|eircode|"
    r"postnummer)(?!\w)",
    re.IGNORECASE,
)
_BARE = re.compile(
    r"(?<![\w$€£.,:/+#'\u2019-])(?:\d{4,6}|\d{3}\s\d{3}|\d{3}\s\d{2}|\d{2}-\d{3})(?![\w%:/'\u2019-]|[.,]\d|\s\d)")
# Where a code typed or spelled one character at a time may start.
_TOKEN_START = re.compile(r"(?<![\w'\u2019-])[a-z\d]", re.IGNORECASE)


class PostalCodeRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        parts = address_parts(text)
        found = [_detection(text, p.start, p.end, LINE_SCORE) for p in parts
                 if p.kind == "postal" and p.evidence != "org"]
        company_lines = [(p.start, p.end) for p in parts if p.evidence == "org"]
        found += [_detection(text, m.start(), m.end(), SHAPED_SCORE) for m in POSTAL_SHAPE.finditer(text)
                  if m.group() == m.group().upper() and not any(s <= m.start() < e for s, e in company_lines)]
        if ENTITY_TYPE in context.expected:
            return found + [_detection(text, start, end, EXPECTED_SCORE) for start, end in _candidates(text)]
        cues = cue_spans(_CUE, text)
        if cues:
            found += [_detection(text, start, end, CUE_SCORE) for start, end in _candidates(text)
                      if near_cue(text, cues, start, end, CUE_WORDS_BEFORE, CUE_WORDS_AFTER)]
        return found


def _candidates(text: str) -> list[tuple[int, int]]:
    """Bare numbers, and codes in any case, typed or spelled, as (start, end)."""
    spans = [m.span() for m in _BARE.finditer(text)]
    position = 0
    for start in _TOKEN_START.finditer(text):
        if start.start() < position:
            continue
        end = postal_at(text, start.start())
        if end is not None:
            spans.append((start.start(), end))
            position = end
    return spans


def _detection(text: str, start: int, end: int, score: float) -> Detection:
    return Detection(start, end, ENTITY_TYPE, score, re.sub(r"\s", "", text[start:end]).upper())
