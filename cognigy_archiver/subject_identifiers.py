"""A data-subject request (who: e-mail addresses, phone numbers, names, contact ids) and what the archive
can look them up by: the index keys of the tokens the sanitizer made from each value (see
shared/archive/subject_index.py).

Each raw value is normalized exactly as the sanitizer's recognizer normalizes what it detects (e-mail lower
case, phone E.164 read in CA_PHONE_REGIONS, names lower case with single spaces), then turned into both
token forms the export rules may have chosen: `tokenize` (HMAC) and `encrypt` (deterministic AES-SIV).
Raw values never leave this module: what is printed, logged or audited is a label ("email 1") and the
index key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import msgspec

from shared.archive.subject_index import field_key, token_key
from shared.errors import ArchiverError
from shared.settings import Settings
from stages.sanitizer.actions import Pseudonymizer
from stages.sanitizer.fields import CONTACT_ID
from stages.sanitizer.recognizers.base import squash
from stages.sanitizer.recognizers.email import ENTITY_TYPE as EMAIL
from stages.sanitizer.recognizers.phone import ENTITY_TYPE as PHONE
from stages.sanitizer.recognizers.phone import PhoneRecognizer

ProbeKind = Literal["token", "sessionId"]
PERSON = "PERSON"  # stages/sanitizer/recognizers/person.py's type (importing it loads spaCy, a second of CLI start)


class SubjectRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who the request is about; any mix of identifiers, each a list."""

    email: list[str] = []
    phone: list[str] = []
    name: list[str] = []
    contact_id: list[str] = []

    @property
    def empty(self) -> bool:
        return not (self.email or self.phone or self.name or self.contact_id)


class Probe(msgspec.Struct, frozen=True):
    """One thing to look for: a token (or a session id) and the request label it came from."""

    kind: ProbeKind
    value: str  # the token or session id: never a raw e-mail, phone number, name or contact id
    label: str

    @property
    def key(self) -> int:
        return token_key(self.value) if self.kind == "token" else field_key(self.kind, self.value)


def load_request(path: Path) -> SubjectRequest:
    try:
        return msgspec.json.decode(path.read_bytes(), type=SubjectRequest)
    except OSError as exc:
        raise ArchiverError(f"cannot read the request file {path}: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        # msgspec's message names the field and what was wrong, never the value.
        raise ArchiverError(f"{path}: not a subject request: {exc}") from None


def probes(request: SubjectRequest, settings: Settings) -> list[Probe]:
    """What to look up for the request; an ArchiverError names each identifier that cannot be used."""
    settings.require("pii.tokenization_key")
    pseudonymizer = Pseudonymizer(settings.pii.tokenization_key.reveal().encode(), settings.pii.tokenization_key_id)
    phones = PhoneRecognizer(settings.pii.phone_region_list)
    found: list[Probe] = []
    problems: list[dict[str, str]] = []

    def tokens(entity_type: str, normalized: str, label: str) -> None:
        found.append(Probe("token", pseudonymizer.token(entity_type, normalized), label))
        found.append(Probe("token", pseudonymizer.encrypt(entity_type, normalized), label))

    for number, email in enumerate(request.email, 1):
        if "@" not in email:
            problems.append({"field": f"email {number}", "problem": "is not an e-mail address"})
        tokens(EMAIL, email.strip().lower(), f"email {number}")
    for number, phone in enumerate(request.phone, 1):
        e164 = phones.possible_number(phone)
        if e164 is None:
            problems.append({"field": f"phone {number}", "problem": "is not a phone number in "
                             f"{', '.join(phones.regions)} (CA_PHONE_REGIONS) nor one with a country code"})
            continue
        tokens(PHONE, e164, f"phone {number}")
    for number, name in enumerate(request.name, 1):
        if not name.strip():
            problems.append({"field": f"name {number}", "problem": "is empty"})
        tokens(PERSON, squash(name), f"name {number}")
    for number, contact in enumerate(request.contact_id, 1):
        # The sanitizer always tokenizes the contactId field, whatever the rules say.
        found.append(Probe("token", pseudonymizer.token(CONTACT_ID, contact.strip()), f"contact_id {number}"))
    if problems:
        raise ArchiverError("the subject request has identifiers that cannot be used", details={"problems": problems})
    if not found:
        raise ArchiverError("the subject request names nobody: give at least one e-mail, phone, name or contact id")
    return found


def request_id(found: list[Probe]) -> str:
    """Names the request in the audit log without naming the person: same identifiers, same id."""
    digest = hashlib.sha256(b"".join(sorted(p.key.to_bytes(8, "big") for p in found)))
    return digest.hexdigest()[:16]
