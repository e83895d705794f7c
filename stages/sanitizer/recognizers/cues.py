"""Cue words near a candidate, in the same sentence: "born" before a date, "PLZ" before five digits,
"geboren" after one ("am 21. Oktober 1952 geboren"). Unlike the engine's context words (`hotwords`), a cue
here may be several words ("date de naissance", "kod pocztowy"), may follow the candidate, and does not
reach across a sentence end."""

from __future__ import annotations

import re

# A sentence ends between the cue and the candidate: "I was born in Leeds. The parcel came on 3.5.2024."
_SENTENCE_END = re.compile(r"[!?\n]|\.\s+(?-i:[A-Z])")


def cue_spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def near_cue(text: str, cues: list[tuple[int, int]], start: int, end: int, before: int, after: int = 0) -> bool:
    """Whether a cue in `cues` (spans in `text`) ends at most `before` words before `text[start:end]` or
    starts at most `after` words after it, with no sentence end in between."""
    for cue_start, cue_end in cues:
        if cue_end <= start:
            gap = text[cue_end:start]
            if len(gap.split()) <= before and not _SENTENCE_END.search(gap):
                return True
        elif cue_start >= end:
            gap = text[end:cue_start]
            if len(gap.split()) <= after and not _SENTENCE_END.search(gap):
                return True
    return False
