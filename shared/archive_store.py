"""Archive storage. The local filesystem backend writes every object durably: a temporary file, fsync,
atomic rename, fsync of the directory; so an object either exists whole or not at all, and a rewrite of
the same key replaces it in one step."""

from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

from shared.errors import ArchiverError


class StorageError(ArchiverError):
    code = "storage_error"


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or ".." in parts:
            raise StorageError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"object {key} is missing") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix` (a folder-like key), sorted."""
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            str(PurePosixPath(prefix, p.relative_to(base).as_posix()))
            for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
