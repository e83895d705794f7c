"""Context words, as in Presidio: a word such as "born" or "ssn" shortly before a candidate raises its
score, so that a date becomes a date of birth and nine digits an SSN only where the text says so.
Words match as prefixes of the text's words ("birth" matches "birthday")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import msgspec

from stages.sanitizer.recognizers.base import Detection

BOOST = 0.35
WINDOW = 6  # words before the candidate
_WORD = re.compile(r"[^\W_]+(?:[.#-][^\W_]*)*")


def enhance(text: str, detections: Sequence[Detection], words: Mapping[str, tuple[str, ...]]) -> list[Detection]:
    """`detections` with BOOST added (up to 1.0) to those under 1.0 whose type has one of its `words`
    among the WINDOW words before them."""
    if not any(d.score < 1.0 and words.get(d.entity_type) for d in detections):
        return list(detections)
    found = [(m.start(), m.group().lower()) for m in _WORD.finditer(text)]
    enhanced = []
    for detection in detections:
        cues = words.get(detection.entity_type)
        if cues and detection.score < 1.0:
            before = [word for start, word in found if start < detection.start][-WINDOW:]
            if any(word.startswith(cues) for word in before):
                detection = msgspec.structs.replace(detection, score=min(1.0, detection.score + BOOST))
        enhanced.append(detection)
    return enhanced
