"""The one interface every archive backend implements, and its errors.

Keys are relative, `/`-separated paths (`<export_id>/segments/...`): the same key names the same object on
every backend, so a manifest written on one backend reads the same on another. `put` returns only once the
object is durable; an object is either whole or absent, never partly written.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Protocol

from shared.errors import ArchiverError


class StorageError(ArchiverError):
    """Storage is unavailable or refused an operation: transient for the stages (the batch is retried)."""

    code = "storage_error"


class ObjectMissing(StorageError):
    code = "object_missing"


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
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or ".." in parts or "\\" in key:
        raise StorageError(f"invalid object key {key!r}")
    return key
