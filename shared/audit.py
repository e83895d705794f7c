"""The append-only, tamper-evident audit log: one JSON line per action (export archived, failed, expired,
legal hold, webhook delivered or abandoned).

Each entry carries a sequence number, the SHA-256 of the previous line (a hash chain: removing, reordering
or editing a line breaks it) and an HMAC-SHA256 over its own content with a key only the archiver knows
(so the chain cannot simply be recomputed after an edit). Entries are deduplicated by event id, so an
action replayed after a crash is written once. The notifier, the archiver's expiry task and the CLI may
append to the same file: an exclusive lock serialises them, and each writer reads what the others added
before it appends. Every entry is also copied into the archive storage (`@audit/<seq>.json`; `@` cannot
start an export id), so a log truncated or rewritten in one place disagrees with the other.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from shared.storage import ObjectMissing, ObjectStore

GENESIS = "0" * 64
STORAGE_FOLDER = "@audit"


def storage_key(seq: int) -> str:
    return f"{STORAGE_FOLDER}/{seq:012d}.json"


def entry_hmac(key: bytes, entry: dict[str, Any]) -> str:
    content = {k: v for k, v in entry.items() if k != "hmac"}
    return hmac.new(key, _canonical(content), hashlib.sha256).hexdigest()


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class AuditLog:
    def __init__(self, path: Path, key: bytes, store: ObjectStore | None = None) -> None:
        self.path = path
        self.key = key
        self.store = store
        self.event_ids: set[str] = set()
        self.last_hash = GENESIS
        self.seq = 0
        self._read_up_to = 0  # bytes of the file this process has seen
        self._unmirrored: dict[int, bytes] = {}  # entries written here, not yet copied to the storage

    async def append(self, event_id: str, action: str, export_id: str, data: dict[str, Any],
                     at: datetime | None = None) -> bool:
        """Write one entry durably (and copy it to the storage); False if this event id was written before."""
        written = await asyncio.to_thread(self._append, event_id, action, export_id, data, at or datetime.now(UTC))
        await self._mirror()
        return written

    async def catch_up_storage(self) -> None:
        """Copy to the storage every local entry it lacks (after a crash between the two writes)."""
        if self.store is None:
            return
        stored = set(await self.store.keys(STORAGE_FOLDER))
        lines = await asyncio.to_thread(_lines, self.path)
        self._unmirrored.update((seq, line) for seq, line in enumerate(lines, start=1)
                                if storage_key(seq) not in stored)
        await self._mirror()

    async def _mirror(self) -> None:
        if self.store is None:
            return
        for seq in sorted(self._unmirrored):
            await self.store.put(storage_key(seq), self._unmirrored[seq])
            del self._unmirrored[seq]


    def _append(self, event_id: str, action: str, export_id: str, data: dict[str, Any], at: datetime) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
            self._read_new_lines(f)
            if event_id in self.event_ids:
                return False
            entry: dict[str, Any] = {"seq": self.seq + 1, "event_id": event_id, "ts": at.isoformat(),
                                     "action": action, "export_id": export_id, "data": data,
                                     "prev_sha256": self.last_hash}
            entry["hmac"] = entry_hmac(self.key, entry)
            line = _canonical(entry)
            f.seek(0, 2)
            f.write(line + b"\n")
            f.flush()
            os.fsync(f.fileno())
            self._see(line)
            self._read_up_to = f.tell()
            self._unmirrored[self.seq] = line
        return True

    def _read_new_lines(self, f: BinaryIO) -> None:
        """Learn the entries other writers appended since this process last looked."""
        f.seek(self._read_up_to)
        for line in f.read().splitlines():
            if line.strip():
                self._see(line)
        self._read_up_to = f.tell()

    def _see(self, line: bytes) -> None:
        entry = json.loads(line)
        self.event_ids.add(entry["event_id"])
        self.seq = entry.get("seq", self.seq + 1)
        self.last_hash = hashlib.sha256(line).hexdigest()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def verify_lines(lines: list[bytes], key: bytes) -> list[str]:
    """Problems in a log's lines; empty when every entry is authentic and links to the one before."""
    problems: list[str] = []
    previous = GENESIS
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            problems.append(f"entry {number}: not JSON")
            previous = hashlib.sha256(line).hexdigest()
            continue
        if not hmac.compare_digest(str(entry.get("hmac", "")), entry_hmac(key, entry)):
            problems.append(f"entry {number}: HMAC does not match its content (edited, or another key)")
        if entry.get("prev_sha256") != previous:
            problems.append(f"entry {number}: chain broken (an entry before it was removed, edited or moved)")
        if entry.get("seq") != number:
            problems.append(f"entry {number}: has sequence number {entry.get('seq')}")
        if entry.get("event_id") in seen:
            problems.append(f"entry {number}: event id {entry.get('event_id')} appears twice")
        seen.add(entry.get("event_id"))
        previous = hashlib.sha256(line).hexdigest()
    return problems


def verify_log(path: Path, key: bytes) -> list[str]:
    return verify_lines(path.read_bytes().splitlines(), key)


async def verify_against_storage(path: Path, store: ObjectStore) -> list[str]:
    """Differences between the local log and its copy in the storage (a truncated or rewritten log)."""
    local = await asyncio.to_thread(_lines, path)
    stored = await store.keys(STORAGE_FOLDER)
    problems = []
    for seq, line in enumerate(local, start=1):
        try:
            copy = await store.get(storage_key(seq))
        except ObjectMissing:
            problems.append(f"entry {seq}: not in the storage copy")
            continue
        if copy != line:
            problems.append(f"entry {seq}: differs from the storage copy")
    if len(stored) > len(local):
        problems.append(f"the storage copy has {len(stored)} entries, the local log {len(local)}: "
                        "entries were removed from the end")
    return problems
