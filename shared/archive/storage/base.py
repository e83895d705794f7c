"""The one interface every archive backend implements, and its errors.

Keys are relative, `/`-separated paths (`<export_id>/segments/...`): the same key names the same object on
every backend, so a manifest written on one backend reads the same on another. `put` returns only once the
object is durable; an object is either whole or absent, never partly written.
"""

from __future__ import annotations

import re
from typing import Protocol

from shared.errors import ArchiverError
from shared.messages import EXPORT_ID_PATTERN


class StorageError(ArchiverError):
    """Storage is unavailable or refused an operation: transient for the stages (the batch is retried)."""

    code = "storage_error"
    retriable = True


class ObjectMissing(StorageError):
    code = "object_missing"


class InvalidObjectKey(ArchiverError):
    """A key no store accepts, whatever its state: not a StorageError, so nothing retries it."""

    code = "invalid_object_key"


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` durably, replacing any object there in one step."""

    async def get(self, key: str) -> bytes:
        """The object's bytes; ObjectMissing if there is none."""

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store `data` under `key` durably unless an object is there already; True if this call stored it.
        Two concurrent calls never both win."""

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        """`length` bytes of the object from `start` (fewer at its end); ObjectMissing if there is none."""

    async def exists(self, key: str) -> bool: ...

    async def keys(self, prefix: str) -> list[str]:
        """Keys under the folder-like `prefix` (all levels), sorted."""

    async def folders(self) -> list[str]:
        """The names of the top-level folders (the first part of every key), sorted."""

    async def delete(self, keys: list[str]) -> None:
        """Delete these objects; keys that do not exist are ignored."""

    def location(self, key: str) -> str:
        """Where a person finds the object: a path or an s3:// URL."""

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    """`key` if it names an object inside the store: '/'-separated parts, none empty, '.' or '..' (which a
    path resolves to another place: the store's root, or outside it), no backslash or NUL. Object ids are
    validated where they enter (shared/messages.py); this is the store's own line of defence."""
    if any(part in ("", ".", "..") for part in key.split("/")) or "\\" in key or "\0" in key:
        raise InvalidObjectKey(f"invalid object key {key!r}")
    return key


_EXPORT_ID = re.compile(EXPORT_ID_PATTERN)


async def export_folders(store: ObjectStore) -> list[str]:
    """The top-level folders that can be exports, sorted: every other name (the audit copies' `@audit`, a
    folder someone else put there) is left out, so a walk over exports never trips on it."""
    return [name for name in await store.folders() if _EXPORT_ID.match(name)]
