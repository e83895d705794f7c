"""What a recognizer finds once context words have had their say, as the engine keeps it."""

from __future__ import annotations

from stages.sanitizer.detector import MIN_SCORE
from stages.sanitizer.hotwords import enhance
from stages.sanitizer.recognizers.base import Recognizer, TextContext


def kept(recognizer: Recognizer, text: str, context: TextContext) -> list[tuple[str, str]]:
    """(text, normalized value) of each detection that scores MIN_SCORE or more after context words."""
    detections = enhance(text, recognizer.detect(text, context), {recognizer.entity_type: recognizer.context_words})
    return [(text[d.start : d.end], d.normalized) for d in detections if d.score >= MIN_SCORE]
