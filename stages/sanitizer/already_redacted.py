"""Text that is already redacted: Cognigy's masks (runs of asterisks, from "Mask Sensitive Analytics"
or the Blind Mode node) and this engine's own tokens, so that a replayed page comes out unchanged.

Recognizers see such spans blanked to spaces (same length, so offsets hold): "*****" is then no answer to
"What's your name?", and a token's hex digits are no phone number."""

from __future__ import annotations

import re

_REDACTED = re.compile(
    r"\*{3,}"
    r"|\[[A-Z][A-Z0-9_]*_[A-Za-z0-9]+_(?:[0-9a-f]{16}|enc:[A-Za-z0-9_-]+)\]"
)


def redacted_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _REDACTED.finditer(text)]


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    parts = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(" " * (end - start))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def is_redacted(text: str) -> bool:
    return _REDACTED.fullmatch(text.strip()) is not None
