"""STREET_ADDRESS: a street with its house number and flat, in each country's format (see `address`), with
the rest of its address line (postal code, town, state) where it follows: "42 Elm Street", "Flat 5, 14
Abbeydale Mews, Leeds, LS7 4RJ", "Keplerstraße 17, 93047 Regensburg", "Calle de Toledo 52, 2º C",
"ul. Brzozowa 11 m. 4", "P.O. Box 63", each line of an address written over several lines (see
`address_block`). A shape that is ordinary text as well ("Am Eichenhang 11", "number 5", "12 rose
hill") counts after an address cue ("my address", "ich wohne", "j'habite", "mieszkam") or when the bot
asked for an address; then everything from a house number to the end of the line counts too ("12 baker,
london"). A company's address (a branch, store or pick-up point named just before it) is left alone.
Normalized to lower case with single spaces."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.address import readable
from stages.sanitizer.recognizers.address_block import address_parts
from stages.sanitizer.recognizers.base import Detection, TextContext, squash
from stages.sanitizer.recognizers.cues import cue_spans, near_cue

ENTITY_TYPE = "STREET_ADDRESS"
LINE_SCORE = 0.8
SHAPE_SCORE = 0.7
CUE_SCORE = 0.7
EXPECTED_SCORE = 0.9
ANSWER_SCORE = 0.6
CUE_WORDS_BEFORE = 8
CUE_WORDS_AFTER = 3  # "Am Eichenhang 11 ist meine Adresse"

_CUE = re.compile(
    r"\b(?:address\w*|adress\w*|anschrift\w*|wohn\w*|live[sd]?|living|resid\w*|moved|moving|ship\w*|"
    r"deliver\w*|liefer\w*|zustell\w*|habit\w*|domicil\w*|direcci[oó]n\w*|indirizz\w*|viv[oe]|vivimos|abit[oa]\w*|"
    r"woon\w*|wonen|adres\w*|mieszk\w*|zamieszk\w*|moro|morada|gemeldet|registered)\b",
    re.IGNORECASE,
)
# Right before a house number: "im at number 5", "we're at 12 rose hill".
_AT = re.compile(r"\b(?:i['\u2019]?m|i\s+am|we['\u2019]?re|we\s+are|(?:s?he|it)['\u2019]?s|they['\u2019]?re)\s+at\b",
                 re.IGNORECASE)
_ANSWER = re.compile(r"\b\d{1,6}[a-z]?\s+[^\W\d_][^\n]*", re.IGNORECASE)
_TRAILING = " \t.,;:!?"
_SCORES = {"line": LINE_SCORE, "shape": SHAPE_SCORE}


class StreetAddressRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        cues: list[tuple[int, int]] | None = None
        at: list[tuple[int, int]] = []
        view = readable(text)  # a line broken as backslash and n ends a sentence too
        found = []
        for part in address_parts(text):
            if part.kind != "street" or part.evidence == "org":
                continue
            if expected:
                score = EXPECTED_SCORE
            elif part.evidence == "weak":
                if cues is None:
                    cues, at = cue_spans(_CUE, view), cue_spans(_AT, view)
                if not (near_cue(view, cues, part.start, part.end, CUE_WORDS_BEFORE, CUE_WORDS_AFTER)
                        or near_cue(view, at, part.start, part.end, 0)):
                    continue
                score = CUE_SCORE
            else:
                score = _SCORES[part.evidence]
            found.append(_detection(text, part.start, part.end, score))
        if expected:
            found += [_detection(text, m.start(), m.end(), ANSWER_SCORE) for m in _ANSWER.finditer(text)]
        return found


def _detection(text: str, start: int, end: int, score: float) -> Detection:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return Detection(start, end, ENTITY_TYPE, score, squash(text[start:end]))
