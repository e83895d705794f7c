"""What a recognizer returns, what it is told about a text, and the interface every recognizer meets."""

from __future__ import annotations

from typing import Protocol

import msgspec


class Detection(msgspec.Struct, frozen=True):
    """One piece of PII found in a text: `text[start:end]`, its type, a confidence in [0, 1], and the
    canonical form that tokens and ciphertexts are computed over (so that `Jane@X.com` and
    `jane@x.com` get the same token)."""

    start: int
    end: int
    entity_type: str
    score: float
    normalized: str

    @property
    def length(self) -> int:
        return self.end - self.start


def squash(text: str) -> str:
    """Lower case with single spaces: the normalized form of names and addresses ("Jane  Doe" and
    "jane doe" share a token)."""
    return " ".join(text.lower().split())


def word_set(words: str) -> frozenset[str]:
    """The words of a whitespace-separated list (long word lists read better as text than as literals)."""
    return frozenset(words.split())


class TextContext(msgspec.Struct, frozen=True):
    """What is known about a text beyond the text itself.

    `expected`: entity types the text is likely to hold (the bot just asked for them, or the text sits
    under an inputData key such as `email`). `entities`: spans `(start, end, label)` that the NER model
    found in this same text; empty without a model (or without one for the text's language).
    `language`: the ISO 639-1 code of the conversation's language ("en", "de", ...; see `language`).
    `source`: who wrote the text, "bot", "user" or "agent" for a turn's inputText, "" for other fields."""

    expected: frozenset[str] = frozenset()
    entities: tuple[tuple[int, int, str], ...] = ()
    language: str = "en"
    source: str = ""


class Recognizer(Protocol):
    """Finds one entity type. Candidates may score below the engine's threshold (MIN_SCORE): a context
    word near them (`context_words`, matched as word prefixes: "birth" matches "birthday") or the
    conversation (`TextContext.expected`) lifts them over it."""

    @property
    def entity_type(self) -> str: ...

    @property
    def context_words(self) -> tuple[str, ...]: ...

    @property
    def ner_labels(self) -> frozenset[str]:
        """The NER labels it reads from `TextContext.entities`; empty if it needs no model."""
        ...

    def detect(self, text: str, context: TextContext) -> list[Detection]: ...
