"""Encryption at rest: segments sealed with AES-256-GCM under their export's data key, data keys wrapped by
a master key.

Envelope encryption keeps the master key out of the archive and makes crypto-shredding possible: every
export has its own random 256-bit data key; only its wrapped form is stored, in the key store (see
shared/archive/keystore.py), apart from the archive. Destroying that one small object makes every copy of the
export's segments (replicas, backups, a stolen disk) unreadable, whoever holds the master key.

A sealed segment is `MAGIC | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)`; the associated data is
the object key, so a segment copied under another name does not decrypt. The nonce is derived from the
plaintext (HMAC under a key of its own, as in SIV): a replay of a page seals the same bytes, so a replayed
or zombie write can never leave an object that differs from what the manifest records, while two
different plaintexts get different nonces (a repeated GCM nonce under one key would leak both).

Parquet files are not sealed: they use Parquet modular encryption, whose per-file keys the export's data
key wraps (`wrap_file_key`, under a key HKDF-derived for that alone; see shared/archive/parquet_records.py).

KMS plug-in point: the master key is anything that meets `KeyWrapper` (wrap / unwrap a data key, bound to
a context). `LocalMasterKey` wraps with AES-256-GCM under a key from the environment or a mounted file;
a KMS wrapper would call the KMS's Encrypt/Decrypt with the context as its encryption context, and
`load_key_wrapper` is the one place that chooses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.errors import ArchiverError, ConfigError
from shared.settings import Settings, env_name

ALGORITHM = "AES-256-GCM"
MAGIC = b"CAE1"
NONCE_BYTES = 12
KEY_BYTES = 32
# HKDF info of the key that wraps Parquet files' own keys; a reader outside this project derives it too
# (docs/archive-format.md), so it never changes.
FILE_KEY_WRAP_INFO = b"cognigy-archiver/parquet/file-key-wrap/aes-256-gcm/v1"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class DecryptionFailed(ArchiverError):
    """A sealed object or wrapped key that this key cannot open: wrong key, or damaged bytes. Retriable: in
    a stage it comes from unwrapping a data key with the deployment's master key (a stage never opens a
    segment), which a fixed deployment opens, so the stage waits rather than dead-letter every page."""

    code = "decryption_failed"
    retriable = True


class KeyWrapper(Protocol):
    key_id: str

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """`data_key` encrypted; `context` must be given again to unwrap it."""

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key; DecryptionFailed if `wrapped` was not made by this master key for `context`."""


class LocalMasterKey:
    """A master key held by this process (from CA_ARCHIVE_MASTER_KEY or its _FILE)."""

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{env_name('archive.master_key')} must be base64 of exactly {KEY_BYTES} bytes, "
                              f"got {len(key)} bytes")
        if not _KEY_ID.fullmatch(key_id):
            raise ConfigError(f"{env_name('archive.master_key_id')} must be 1-64 letters, digits, '.', '_' or '-'")
        self._aead = AESGCM(key)
        self.key_id = key_id

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return _wrap(self._aead, data_key, context)  # a key is wrapped once per export

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return _unwrap(self._aead, wrapped, context, f"the master key {self.key_id!r} cannot unwrap this data key "
                       "(another master key wrapped it, or it is damaged)")


def load_key_wrapper(settings: Settings) -> KeyWrapper | None:
    """The master key the settings name, or None when no master key is set."""
    if not settings.archive.master_key:
        return None
    try:
        key = base64.b64decode(settings.archive.master_key.reveal(), validate=True)
    except binascii.Error:
        raise ConfigError(f"{env_name('archive.master_key')} is not valid base64") from None
    return LocalMasterKey(key, settings.archive.master_key_id)


class DataKey:
    """One export's data key: seals and opens its segments."""

    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id = key_id
        self._aead = AESGCM(_derive(key, b"cognigy-archiver/segment/aes-256-gcm/v1"))
        self._nonce_key = _derive(key, b"cognigy-archiver/segment/nonce/v1")
        self._file_key_aead = AESGCM(_derive(key, FILE_KEY_WRAP_INFO))

    def seal(self, plaintext: bytes, object_key: str) -> bytes:
        nonce = hmac.new(self._nonce_key, object_key.encode() + b"\0" + plaintext, hashlib.sha256).digest()
        nonce = nonce[:NONCE_BYTES]
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, object_key.encode())

    def open(self, sealed: bytes, object_key: str) -> bytes:
        if not is_sealed(sealed):
            raise DecryptionFailed(f"{object_key}: not an encrypted segment")
        nonce = sealed[len(MAGIC):len(MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[len(MAGIC) + NONCE_BYTES:], object_key.encode())
        except InvalidTag:
            raise DecryptionFailed(f"{object_key}: does not decrypt with data key {self.key_id!r} (another "
                                   "key sealed it, it was renamed, or its bytes are damaged)") from None

    def wrap_file_key(self, file_key: bytes, context: bytes) -> bytes:
        """A Parquet file's own random key, wrapped for its footer (shared/archive/parquet_records.py)."""
        return _wrap(self._file_key_aead, file_key, context)

    def unwrap_file_key(self, wrapped: bytes, context: bytes) -> bytes:
        return _unwrap(self._file_key_aead, wrapped, context, f"data key {self.key_id!r} cannot unwrap this file's "
                       "key (another export's key wrapped it, or the file is damaged)")


def new_data_key_bytes() -> bytes:
    return os.urandom(KEY_BYTES)


def is_sealed(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC


def _wrap(aead: AESGCM, secret: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)  # for keys wrapped once each (random themselves): a random nonce is safe
    return nonce + aead.encrypt(nonce, secret, context)


def _unwrap(aead: AESGCM, wrapped: bytes, context: bytes, failure: str) -> bytes:
    try:
        return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
    except InvalidTag:
        raise DecryptionFailed(failure) from None


def _derive(key: bytes, info: bytes) -> bytes:
    # One random secret, several purposes (cipher key, nonce key, file-key wrapping): HKDF keeps them independent.
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)
