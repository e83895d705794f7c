"""What replaces a detection, per PiiRule action, and which detections get replaced.

- tokenize: `[TYPE_keyid_<16 hex>]`, the first 64 bits of HMAC-SHA256(key, normalized value). The same
  value gives the same token in every record, page and process, so joins and counts survive; without the
  key a token cannot be reversed, not even by enumerating all phone numbers. Whoever holds the key can
  enumerate low-entropy values (phone numbers, card numbers) and find their tokens: guard the key.
- encrypt: `[TYPE_keyid_enc:<urlsafe base64>]`, AES-SIV (deterministic, authenticated) under a key
  derived from the secret key with HKDF, the entity type bound as associated data. Reversible with the
  key: `decrypt_token`.
- mask: one mask character (the rule's `mask_char`, `*` by default) per character, but the rule's
  `keep_last` trailing letters and digits (and what stands between them) stay: `***************1111`;
  never more than half of them.
- redact: `[TYPE]`.
The key id in tokens lets keys rotate: a reader knows which key made a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.errors import ConfigError
from shared.messages import PiiRule
from stages.sanitizer.recognizers.base import Detection

MIN_KEY_BYTES = 16
TOKEN_HEX_CHARS = 16  # 64 bits: no collisions to speak of below billions of distinct values
_ENCRYPTION_KEY_INFO = b"cognigy-archiver/pii/aes-siv/v1"
_KEY_ID = re.compile(r"[A-Za-z0-9]+")
_ENCRYPTED_TOKEN = re.compile(
    r"\[(?P<type>[A-Z][A-Z0-9_]*)_(?P<key_id>[A-Za-z0-9]+)_enc:(?P<data>[A-Za-z0-9_-]+)\]"
)


class Pseudonymizer:
    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(f"the tokenization key must be at least {MIN_KEY_BYTES} bytes long")
        if not _KEY_ID.fullmatch(key_id):
            raise ConfigError("the tokenization key id must be letters and digits only (tokens include it)")
        self._key = key
        self.key_id = key_id
        self._siv = AESSIV(_encryption_key(key))

    def token(self, entity_type: str, value: str) -> str:
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"[{entity_type}_{self.key_id}_{digest[:TOKEN_HEX_CHARS]}]"

    def encrypt(self, entity_type: str, value: str) -> str:
        ciphertext = self._siv.encrypt(value.encode(), [entity_type.encode()])
        data = base64.urlsafe_b64encode(ciphertext).rstrip(b"=").decode()
        return f"[{entity_type}_{self.key_id}_enc:{data}]"

    def replacement(self, rule: PiiRule, detection: Detection, original: str) -> str:
        """What replaces `original`, the text of `detection`, under `rule`."""
        if rule.action == "tokenize":
            return self.token(detection.entity_type, detection.normalized)
        if rule.action == "encrypt":
            return self.encrypt(detection.entity_type, detection.normalized)
        if rule.action == "mask":
            return mask(original, rule.mask_char, rule.keep_last)
        return f"[{detection.entity_type}]"

    def rewrite(self, text: str, detections: Sequence[Detection], rules: Mapping[str, PiiRule]) -> str:
        """`text` with each detection replaced; detections must not overlap (see `resolve_overlaps`)."""
        parts = []
        position = 0
        for detection in sorted(detections, key=lambda d: d.start):
            parts.append(text[position : detection.start])
            original = text[detection.start : detection.end]
            parts.append(self.replacement(rules[detection.entity_type], detection, original))
            position = detection.end
        parts.append(text[position:])
        return "".join(parts)


def mask(text: str, mask_char: str, keep_last: int) -> str:
    """`text` masked but for its last `keep_last` letters and digits (and anything between them); never
    more than half of them, so that a short value is not shown whole."""
    visible = min(keep_last, sum(c.isalnum() for c in text) // 2)
    visible_from = len(text)
    kept = 0
    while kept < visible:
        visible_from -= 1
        kept += text[visible_from].isalnum()
    return mask_char * visible_from + text[visible_from:]


def resolve_overlaps(detections: Iterable[Detection], text: str | None = None) -> list[Detection]:
    """The detections to replace, none overlapping another, sorted by start.

    Rule: the longest span wins, then the highest score, then the earliest start (then the type name, so
    that the result never depends on the order recognizers ran in). The longest span wins because a
    shorter one inside it is usually a part mistaken for a whole: the "4111 1111" phone number inside a
    card number, the first name inside a full name. Given the `text`, what a losing detection held outside
    the winners is kept, with its type and value: in "tahnee ryan fourth of august 1999" the name that
    ran into the date stays covered."""
    kept: list[Detection] = []
    for candidate in sorted(detections, key=lambda d: (-d.length, -d.score, d.start, d.entity_type)):
        clashes = [k for k in kept if k.start < candidate.end and candidate.start < k.end]
        if not clashes:
            kept.append(candidate)
        elif text is not None:
            kept += _outside(candidate, clashes, text)
    return sorted(kept, key=lambda d: d.start)


def _outside(detection: Detection, winners: list[Detection], text: str) -> list[Detection]:
    """The parts of `detection` no winner covers, trimmed to letters and digits."""
    parts = []
    start = detection.start
    for winner in sorted(winners, key=lambda d: d.start):
        parts.append((start, min(winner.start, detection.end)))
        start = max(start, winner.end)
    parts.append((start, detection.end))
    found = []
    for first, end in parts:
        while first < end and not text[first].isalnum():
            first += 1
        while end > first and not text[end - 1].isalnum():
            end -= 1
        if first < end:
            found.append(msgspec.structs.replace(detection, start=first, end=end))
    return found


def decrypt_token(key: bytes, token: str) -> str:
    """The normalized value inside an `encrypt` token. Raises ValueError if `token` is not one, or if it
    was not made with `key`."""
    match = _ENCRYPTED_TOKEN.fullmatch(token)
    if match is None:
        raise ValueError("not an encrypted PII token")
    return _decrypt(key, match)


def detokenize_text(key: bytes, key_id: str, text: str) -> str:
    """`text` with every `encrypt` token replaced by its value. `tokenize` tokens stay: they cannot be
    reversed. Raises ValueError naming the key id of a token made with another key."""

    def value(match: re.Match[str]) -> str:
        if match.group("key_id") != key_id:
            raise ValueError(f"a token was made with key id {match.group('key_id')!r}, not {key_id!r}")
        return _decrypt(key, match)

    return _ENCRYPTED_TOKEN.sub(value, text)


def _decrypt(key: bytes, match: re.Match[str]) -> str:
    data = match.group("data")
    ciphertext = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    try:
        plaintext = AESSIV(_encryption_key(key)).decrypt(ciphertext, [match.group("type").encode()])
    except InvalidTag:
        raise ValueError("the token was not encrypted with this key") from None
    return plaintext.decode()


def _encryption_key(key: bytes) -> bytes:
    # AES-SIV takes two AES-256 keys in one. A derived key keeps the HMAC key and the cipher key apart.
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_ENCRYPTION_KEY_INFO).derive(key)
