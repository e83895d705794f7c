"""The one place where recognizers are registered: which entity types exist and what finds them."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from stages.sanitizer.recognizers.base import Recognizer
from stages.sanitizer.recognizers.credit_card import CreditCardRecognizer
from stages.sanitizer.recognizers.email import EmailRecognizer
from stages.sanitizer.recognizers.pattern import PatternRecognizer
from stages.sanitizer.recognizers.person import PersonRecognizer
from stages.sanitizer.recognizers.phone import PhoneRecognizer
from stages.sanitizer.recognizers.street_address import StreetAddressRecognizer

_BUILTIN: dict[str, Callable[[], Recognizer]] = {
    "EMAIL_ADDRESS": EmailRecognizer,
    "PHONE_NUMBER": PhoneRecognizer,
    "CREDIT_CARD": CreditCardRecognizer,
    "STREET_ADDRESS": StreetAddressRecognizer,
    "PERSON": PersonRecognizer,
}

ENTITY_TYPES: tuple[str, ...] = tuple(_BUILTIN)
"""The built-in entity types, in the order their recognizers run."""

NER_ENTITY_TYPES = frozenset({"PERSON"})
"""Built-in types whose recognizer reads the NER model's entities: without them the model is not run."""


def build_recognizers(
    entity_types: Collection[str], patterns: Sequence[tuple[str, re.Pattern[str]]] = ()
) -> list[Recognizer]:
    """The built-in recognizers for `entity_types` (unknown names are ignored: those come with a pattern),
    then one PatternRecognizer per (entity_type, pattern)."""
    recognizers = [factory() for name, factory in _BUILTIN.items() if name in entity_types]
    recognizers += [PatternRecognizer(name, pattern) for name, pattern in patterns]
    return recognizers
