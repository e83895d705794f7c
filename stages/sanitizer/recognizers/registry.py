"""The one place where recognizers are registered: which entity types exist and what finds them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from shared.user_patterns import UserPattern
from stages.sanitizer.recognizers.account_number import AccountNumberRecognizer
from stages.sanitizer.recognizers.base import Recognizer
from stages.sanitizer.recognizers.city import CityRecognizer
from stages.sanitizer.recognizers.credential_url import CredentialUrlRecognizer
from stages.sanitizer.recognizers.credit_card import CreditCardRecognizer
from stages.sanitizer.recognizers.date_of_birth import DateOfBirthRecognizer
from stages.sanitizer.recognizers.email import EmailRecognizer
from stages.sanitizer.recognizers.iban import IbanRecognizer
from stages.sanitizer.recognizers.id_document import IdDocumentRecognizer
from stages.sanitizer.recognizers.ip_address import IpAddressRecognizer
from stages.sanitizer.recognizers.ner_entity import NerEntityRecognizer
from stages.sanitizer.recognizers.pattern import PatternRecognizer
from stages.sanitizer.recognizers.person import PersonRecognizer
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS, PhoneRecognizer
from stages.sanitizer.recognizers.postal_code import PostalCodeRecognizer
from stages.sanitizer.recognizers.street_address import StreetAddressRecognizer
from stages.sanitizer.recognizers.us_ssn import UsSsnRecognizer
from stages.sanitizer.recognizers.vehicle_plate import VehiclePlateRecognizer

# spaCy NER labels (OntoNotes, the English pipelines' scheme) and the built-in types that read them.
NER_LABELS = frozenset({
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
    "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
})
DEFAULT_NER_LABELS: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "LOCATION": ("GPE", "LOC", "FAC"),
    "ORGANIZATION": ("ORG",),
}

_Factory = Callable[[Sequence[str], Sequence[str]], Recognizer]

# name -> factories(phone regions, NER labels) of the recognizers that find it, in the order they run.
_BUILTIN: dict[str, tuple[_Factory, ...]] = {
    "EMAIL_ADDRESS": (lambda regions, labels: EmailRecognizer(),),
    "PHONE_NUMBER": (lambda regions, labels: PhoneRecognizer(regions),),
    "CREDIT_CARD": (lambda regions, labels: CreditCardRecognizer(),),
    "IBAN_CODE": (lambda regions, labels: IbanRecognizer(),),
    "US_SSN": (lambda regions, labels: UsSsnRecognizer(),),
    "ACCOUNT_NUMBER": (lambda regions, labels: AccountNumberRecognizer(regions),),
    "ID_DOCUMENT": (lambda regions, labels: IdDocumentRecognizer(regions),),
    "VEHICLE_PLATE": (lambda regions, labels: VehiclePlateRecognizer(regions),),
    "IP_ADDRESS": (lambda regions, labels: IpAddressRecognizer(),),
    "CREDENTIAL_URL": (lambda regions, labels: CredentialUrlRecognizer(),),
    "STREET_ADDRESS": (lambda regions, labels: StreetAddressRecognizer(),),
    "POSTAL_CODE": (lambda regions, labels: PostalCodeRecognizer(),),
    "DATE_OF_BIRTH": (lambda regions, labels: DateOfBirthRecognizer(),),
    "PERSON": (lambda regions, labels: PersonRecognizer(labels),),
    "LOCATION": (lambda regions, labels: NerEntityRecognizer("LOCATION", labels),
                 lambda regions, labels: CityRecognizer()),
    "ORGANIZATION": (lambda regions, labels: NerEntityRecognizer("ORGANIZATION", labels),),
}

ENTITY_TYPES: tuple[str, ...] = tuple(_BUILTIN)
"""The built-in entity types, in the order their recognizers run."""

OPT_IN_TYPES = frozenset({"ORGANIZATION"})
"""Built-in types that the ALL rule leaves out: a company name is seldom personal data, and the small
models' ORG guesses are noisy (Presidio leaves ORGANIZATION out by default for the same reason)."""


def build_recognizers(
    entity_types: Sequence[str],
    patterns: Sequence[tuple[str, UserPattern]] = (),
    ner_labels: Mapping[str, Sequence[str]] | None = None,
    phone_regions: Sequence[str] = DEFAULT_REGIONS,
) -> list[Recognizer]:
    """The built-in recognizers for `entity_types` (in registry order), then one NER recognizer per custom
    type in `ner_labels` (type -> labels; for a built-in NER type it replaces the default labels), then one
    PatternRecognizer per (entity_type, pattern)."""
    labels = {**DEFAULT_NER_LABELS, **(ner_labels or {})}
    recognizers = [factory(phone_regions, labels.get(name, ())) for name, factories in _BUILTIN.items()
                   if name in entity_types for factory in factories]
    recognizers += [NerEntityRecognizer(name, custom) for name, custom in (ner_labels or {}).items()
                    if name not in _BUILTIN]
    recognizers += [PatternRecognizer(name, pattern) for name, pattern in patterns]
    return recognizers
