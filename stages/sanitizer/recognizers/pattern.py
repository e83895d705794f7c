"""Custom types: a regular expression from a PiiRule, for identifiers only the customer knows (order
numbers, employee ids). The span and the normalized value are the match without surrounding whitespace."""

from __future__ import annotations

import re

from stages.sanitizer.recognizers.base import Detection, TextContext

SCORE = 0.9


class PatternRecognizer:
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, entity_type: str, pattern: re.Pattern[str]) -> None:
        self.entity_type = entity_type
        self.pattern = pattern

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = []
        for match in self.pattern.finditer(text):
            value = match.group()
            stripped = value.strip()
            if not stripped:
                continue
            start = match.start() + len(value) - len(value.lstrip())
            found.append(Detection(start, start + len(stripped), self.entity_type, SCORE, stripped))
        return found
