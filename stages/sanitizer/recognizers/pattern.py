"""Custom types: a regular expression from a PiiRule, for identifiers only the customer knows (order
numbers, employee ids), matched with a time limit (see `shared.user_patterns`). The span and the
normalized value are the match without surrounding whitespace."""

from __future__ import annotations

from shared.user_patterns import UserPattern
from stages.sanitizer.recognizers.base import Detection, TextContext

SCORE = 0.9


class PatternRecognizer:
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def __init__(self, entity_type: str, pattern: UserPattern) -> None:
        self.entity_type = entity_type
        self.pattern = pattern

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        """Raises PatternTimeout if the pattern runs over its time limit on `text`."""
        found = []
        for start, end in self.pattern.spans(text):
            value = text[start:end]
            stripped = value.strip()
            if not stripped:
                continue
            start += len(value) - len(value.lstrip())
            found.append(Detection(start, start + len(stripped), self.entity_type, SCORE, stripped))
        return found
