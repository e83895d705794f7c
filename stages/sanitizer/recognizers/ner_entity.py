"""Entities of the spaCy NER model, by label, as one entity type: LOCATION (GPE, LOC, FAC) and
ORGANIZATION (ORG) are built in; a PiiRule's `ner_labels` maps any labels to its type. Spans are trimmed
of a possessive and punctuation; spans without a letter, or with '@' (the model's guesses at emails and
numbers), are dropped. Normalized to lower case with single spaces.

A place is personal data only where it says where someone lives or is: "I live in Leeds", an address, the
answer to "Where do you live?". A route, a branch or the weather's city is not ("my flight from Boston to
Denver"). So a LOCATION counts only with such a context word before it or when the conversation asked for
an address; the address recognizers find the towns inside addresses."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stages.sanitizer.recognizers.base import Detection, TextContext

SCORE = 0.85
PLACE_SCORE = 0.4  # a LOCATION without a residence cue: below the threshold
LOCATION = "LOCATION"
# Words before a place that make it where someone lives or is; matched as word prefixes (see `hotwords`).
RESIDENCE_WORDS = (
    "live", "living", "lives", "moved", "moving", "reside", "resident", "address", "home", "i'm in", "based",
    "wohne", "wohnt", "wohnhaft", "umgezogen", "adresse", "anschrift", "zuhause", "daheim",
    "habite", "domicil", "réside", "vivo", "vive", "resido", "domicilio", "abito", "abita", "residen",
    "woon", "woont", "woonachtig", "verhuisd", "mieszkam", "mieszka", "zamieszka", "adres",
)
_ADDRESS_TYPES = frozenset({"STREET_ADDRESS", "POSTAL_CODE", LOCATION})
# "I'm in Leeds this week", "ich bin in Graz": where the person is right now.
_BEING_IN = re.compile(
    r"\b(?:i'?m|i\s+am|we'?re|we\s+are|ich\s+bin|wir\s+sind|je\s+suis|nous\s+sommes|estoy|estamos|sono|siamo|"
    r"ik\s+ben|we\s+zijn|jestem|jesteśmy)\s+(?:in|at|à|en|a|w|im|bei|near|nahe)\s+(?:the\s+)?$", re.IGNORECASE)
_TRAILING = " \t.,;:!?\"')("
_LETTER = re.compile(r"[^\W\d_]")


class NerEntityRecognizer:
    def __init__(self, entity_type: str, labels: Iterable[str]) -> None:
        self.entity_type = entity_type
        self.ner_labels = frozenset(labels)
        self._places = entity_type == LOCATION
        self.context_words = RESIDENCE_WORDS if self._places else ()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        score = SCORE
        if self._places and not (context.expected & _ADDRESS_TYPES):
            score = PLACE_SCORE
        found = []
        for start, end in entity_spans(text, context, self.ner_labels):
            span = text[start:end]
            if _LETTER.search(span) and "@" not in span:
                here = self._places and _BEING_IN.search(text, max(0, start - 30), start) is not None
                found.append(Detection(start, end, self.entity_type, SCORE if here else score, normalize(span)))
        return found


def entity_spans(text: str, context: TextContext, labels: frozenset[str]) -> list[tuple[int, int]]:
    """The (start, end) of each entity with one of `labels`, without a trailing possessive or punctuation."""
    spans = []
    for start, end, label in context.entities:
        if label not in labels:
            continue
        for suffix in ("'s", "\u2019s"):
            if text.endswith(suffix, start, end):
                end -= len(suffix)
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        while start < end and text[start] in _TRAILING:
            start += 1
        if start < end:
            spans.append((start, end))
    return spans


def normalize(text: str) -> str:
    return " ".join(text.lower().split())
