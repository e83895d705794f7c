"""The local filesystem backend. Every object is written durably: a temporary file, fsync, atomic
rename, fsync of the directory; so an object exists whole or not at all, and a rewrite of the same key
replaces it in one step. Temporary files live in `<root>/.incoming/`, apart from the exports, so one
left by a process killed mid-write never sits among an export's objects; `sweep_incoming` removes old
ones. Blocking file calls run in a worker thread."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path, PurePosixPath

from shared.archive.storage.base import ObjectMissing, StorageError, check_key

INCOMING = ".incoming"


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / INCOMING

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*PurePosixPath(check_key(key)).parts)

    async def put(self, key: str, data: bytes) -> None:
        try:
            await asyncio.to_thread(self._put, self._path(key), self.incoming, data)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc.strerror}") from None

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            return await asyncio.to_thread(self._put, self._path(key), self.incoming, data, False)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc.strerror}") from None

    @staticmethod
    def _put(path: Path, incoming: Path, data: bytes, replace: bool = True) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        incoming.mkdir(exist_ok=True)
        tmp = incoming / f"{uuid.uuid4().hex}.tmp"
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                try:  # a hard link is created whole or not at all, and never over an existing file
                    os.link(tmp, path)
                except FileExistsError:
                    return False
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        return True

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ObjectMissing(f"object {key} is missing") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror}") from None

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        try:
            return await asyncio.to_thread(_read_range, self._path(key), start, length)
        except FileNotFoundError:
            raise ObjectMissing(f"object {key} is missing") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror}") from None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def keys(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._list_keys, prefix)

    def _list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            str(PurePosixPath(prefix, p.relative_to(base).as_posix()))
            for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )

    async def folders(self) -> list[str]:
        return await asyncio.to_thread(self._folders)

    def _folders(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    async def delete(self, keys: list[str]) -> None:
        paths = [self._path(k) for k in keys]
        try:
            await asyncio.to_thread(self._delete, paths)
        except OSError as exc:
            raise StorageError(f"cannot delete: {exc.strerror}") from None

    def _delete(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
        # Remove folders left empty, up to the root, so an expired export leaves no trace.
        for folder in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
            while folder != self.root and folder.is_relative_to(self.root):
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent
        for folder in {p.parent for p in paths if p.parent.exists()}:
            _fsync_dir(folder)

    async def sweep_incoming(self, older_than_seconds: float = 3600.0) -> int:
        """Remove temporary files that processes killed mid-write left behind; returns how many."""
        return await asyncio.to_thread(self._sweep_incoming, time.time() - older_than_seconds)

    def _sweep_incoming(self, before: float) -> int:
        stale = [p for p in self.incoming.glob("*.tmp") if p.stat().st_mtime < before]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def location(self, key: str) -> str:
        return str(self._path(key))

    async def close(self) -> None:
        return None


def _read_range(path: Path, start: int, length: int) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read(length)


def _fsync_dir(path: Path) -> None:
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
