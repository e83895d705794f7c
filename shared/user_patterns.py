"""Regular expressions that export requests bring (a PiiRule's `pattern`), which run over every text of
their export: checked before they are accepted, and matched under a time limit.

A backtracking engine can take exponential time on a short text: with `re`, `(\\w+\\s?)+$` never finishes
on 30 letters and a "!", and nothing can stop it, so one export request would stall the sanitizer for
every export. User patterns therefore run on the `regex` module, whose matching takes a timeout (`re`'s
has none) and which matches as `re` does (its default VERSION0; the syntax accepted is `re`'s, checked
with `re` itself, so a pattern means what it meant before). RE2 would
match in linear time, but its `\\w` and `\\b` know ASCII letters only and it has no look-around, which
PII patterns use (`(?<!\\d)\\d{6}(?!\\d)`, names in any language).

Accepted: at most MAX_PATTERN_CHARS characters, valid `re` syntax, at most MAX_EXPANDED elements with
every counted repeat written out (`regex` compiles `x{1000}` as a thousand copies: `(?:a{1000}){1000}`
takes 270 MB and `(?:a|){1000000}` crashes it), and not slow on the trial texts: runs of letters,
digits, spaces, punctuation and of the pattern's own characters, TRIAL_LENGTH long and broken at the
end, where catastrophic backtracking shows (`(a|a)+b`, `(\\w+\\s?)+$`). The trial catches the common
shapes, not every one (`(ab|ab)+c` needs "abab..."): the time limit of each match is the guarantee.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator

import regex

from shared.errors import ArchiverError

MAX_PATTERN_CHARS = 500  # a pattern runs over every text of an export: a long one is more likely a mistake
MAX_EXPANDED = 10_000  # about 10 MB compiled
MATCH_SECONDS = 1.0
"""The time one pattern may take on one text; a sane one takes microseconds on a long chat message."""
TRIAL_LENGTH = 1000
TRIAL_SECONDS = 0.2
"""The time all trial texts together may take; a sane pattern takes a few milliseconds on them."""

_COUNT = re.compile(r"\{(\d*)(?:,\d*)?\}")
_TRIAL_CHARS = "aA1 .-_@,/:é"


class PatternTimeout(ArchiverError):
    """A user pattern ran over its time limit on one text. `field` names the rule (`pii_rules[2].pattern`)."""

    code = "pattern_timeout"

    def __init__(self, field: str, seconds: float) -> None:
        problem = (f"too slow: over {seconds:g} s on one text (catastrophic backtracking); rewrite it without "
                   "nested or overlapping repeats")
        super().__init__(f"{field} ran over its time limit of {seconds:g} s on one text",
                         details={"problems": [{"field": field, "problem": problem}], "seconds": seconds})
        self.field = field
        self.seconds = seconds

    def __reduce__(self) -> tuple[type[PatternTimeout], tuple[str, float]]:
        # Raised in pool workers and re-raised in the stage: rebuilt from its own arguments, not the message.
        return type(self), (self.field, self.seconds)


class UserPattern:
    """A checked user pattern (see `pattern_problem`), matched with a time limit per text."""

    def __init__(self, source: str, field: str = "pattern", seconds: float = MATCH_SECONDS) -> None:
        if seconds <= 0:  # `regex` reads a negative timeout as none at all
            raise ValueError(f"a pattern's time limit must be positive, not {seconds}")
        self.field = field
        self.seconds = seconds
        self._compiled = regex.compile(source)

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each match, as `re.finditer` finds them. Raises PatternTimeout when the matching
        (not the caller's work between matches) has taken over `seconds` in all."""
        try:
            for match in self._compiled.finditer(text, timeout=self.seconds):
                yield match.span()
        except TimeoutError:
            raise PatternTimeout(self.field, self.seconds) from None


@functools.lru_cache(maxsize=1024)
def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not accepted as a user pattern, or None. Remembered: every page of an export checks
    its rules again, and a refused pattern costs the whole trial time."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"over {MAX_PATTERN_CHARS} characters"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    if expanded_size(pattern) > MAX_EXPANDED:
        return f"over {MAX_EXPANDED:,} elements with its counted repeats written out; use + or * instead"
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        return f"not a valid regular expression: {exc}"
    deadline = time.monotonic() + TRIAL_SECONDS
    try:
        for text in _trial_texts(pattern):
            for _ in compiled.finditer(text, timeout=max(deadline - time.monotonic(), 0.0)):
                pass
    except TimeoutError:
        return (f"too slow: over {TRIAL_SECONDS:g} s on {TRIAL_LENGTH}-character trial texts (catastrophic "
                "backtracking); rewrite it without nested or overlapping repeats")
    return None


def expanded_size(pattern: str) -> int:
    """About how many elements the pattern compiles to, each counted repeat written out (`{m}`, `{m,}`,
    `{m,n}`: m copies). An over-estimate where it is unsure (comments, escapes of several characters)."""
    groups: list[list[int]] = [[]]  # the sizes of the elements of each group still open
    i = 0
    while i < len(pattern):
        char = pattern[i]
        count = _COUNT.match(pattern, i) if char == "{" and groups[-1] else None
        if count is not None:
            groups[-1][-1] *= max(int(count.group(1) or 0), 1)
            i = count.end()
        elif char == "(":
            groups.append([])
            i += 1
        elif char == ")" and len(groups) > 1:
            inner = groups.pop()
            groups[-1].append(sum(inner) + 1)
            i += 1
        else:
            groups[-1].append(1)
            i = _class_end(pattern, i) if char == "[" else i + (2 if char == "\\" else 1)
    return sum(sum(group) for group in groups)


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class opening at `start` (a `]` first in it is a member)."""
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _trial_texts(pattern: str) -> Iterator[str]:
    for char in dict.fromkeys(_TRIAL_CHARS + "".join(c for c in pattern if c.isalnum())):
        yield char * TRIAL_LENGTH + ("!" if char.isalnum() else "a")
