"""STREET_ADDRESS: house number, street name and a street suffix ("42 Elm Street", "7 oak ave"),
optionally with a unit and ", City, ST 12345". When the bot asked for an address, everything from a house
number to the end of the line counts, suffix or not ("12 baker, london")."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext, squash

ENTITY_TYPE = "STREET_ADDRESS"
SCORE = 0.7
EXPECTED_SCORE = 0.9
ANSWER_SCORE = 0.6

_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|terrace|"
    r"parkway|pkwy|circle|cir|highway|hwy|square|sq)"
)
# Words that never start or continue a street name; without them "3 dogs in the way" would be an address.
_NOT_STREET = (
    r"(?:the|a|an|in|on|at|to|of|my|your|our|his|her|their|this|that|these|those|and|or|but|for|by|with|"
    r"from|is|are|was|were|be|it|its|all|down|up|out|into|over|under|per|times?|days?|hours?|minutes?|"
    r"weeks?|months?|years?|items?)"
)
_STREET_WORD = rf"(?!{_NOT_STREET}\b)(?:[^\W\d_][\w'.-]*|\d+(?:st|nd|rd|th))"
_UNIT = r"(?:,?\s+(?:apt|apartment|suite|ste|unit|#)\.?\s*[\w-]+)"
_CITY = r"[^\W\d_][\w.'-]*(?:\s+[^\W\d_][\w.'-]*){0,2}?"
_TAIL = rf"(?:,\s*{_CITY},?\s+(?-i:[A-Z]{{2}})(?:\s+\d{{5}}(?:-\d{{4}})?)?)"
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[a-z]?(?:\s+{_STREET_WORD}){{1,4}}?\s+{_SUFFIX}\b\.?{_UNIT}?{_TAIL}?",
    re.IGNORECASE,
)
_ANSWER = re.compile(r"\b\d{1,6}[a-z]?\s+[^\W\d_][^\n]*", re.IGNORECASE)
_TRAILING = " \t.,;:!?"


class StreetAddressRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("address", "live", "ship", "deliver", "street", "moved")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        expected = ENTITY_TYPE in context.expected
        score = EXPECTED_SCORE if expected else SCORE
        found = [self._detection(text, m.start(), m.end(), score) for m in _ADDRESS.finditer(text)]
        if expected:
            found += [self._detection(text, m.start(), m.end(), ANSWER_SCORE) for m in _ANSWER.finditer(text)]
        return found

    @staticmethod
    def _detection(text: str, start: int, end: int, score: float) -> Detection:
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        return Detection(start, end, ENTITY_TYPE, score, squash(text[start:end]))
