"""The append-only, tamper-evident audit log: one JSON line per action (export archived, failed, expired,
legal hold, webhook delivered or abandoned).

Each entry carries a sequence number, the SHA-256 of the previous line (a hash chain: removing, reordering
or editing a line breaks it) and an HMAC-SHA256 over its own content with a key only the archiver knows
(so the chain cannot simply be recomputed after an edit). Entries are deduplicated by event id, so an
action replayed after a crash is written once. The notifier, the archiver's expiry task and the CLI may
append to the same file: an exclusive lock serialises them, and each writer reads what the others added
before it appends. Every entry is also copied into the archive storage (`@audit/<seq>.json`; `@` cannot
start an export id), so a log truncated or rewritten in one place disagrees with the other.

Truncating both copies alike (or emptying both) leaves a shorter chain that is still intact, so the head is
anchored outside the log: after each append the storage gets a signed checkpoint of the head
(`@audit/head.json`: sequence number and SHA-256 of the last entry, HMAC under a key derived from the audit
key), which only ever moves forward along the same chain; every manifest's SHA-256 is recorded in the log
(shared/archive/manifest.py), so a manifest whose entry is gone shows the removal; and the `archival.completed`
webhook carries the head as of its own entry, so receivers hold a copy no one here can roll back. A
checkpoint is a lower bound: writers racing may leave it an entry or two behind, never ahead.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from shared.archive.storage import ObjectMissing, ObjectStore
from shared.errors import ArchiverError

log = logging.getLogger(__name__)
GENESIS = "0" * 64
STORAGE_FOLDER = "@audit"
CHECKPOINT_KEY = f"{STORAGE_FOLDER}/head.json"
_ENTRY_KEY = re.compile(rf"{STORAGE_FOLDER}/\d{{12}}\.json")


class AuditHead(msgspec.Struct, frozen=True, kw_only=True):
    """A position in the log: an entry's sequence number and the SHA-256 of its line (0, GENESIS: empty)."""

    seq: int
    sha256: str


class AuditTampered(ArchiverError):
    code = "audit_tampered"


def storage_key(seq: int) -> str:
    return f"{STORAGE_FOLDER}/{seq:012d}.json"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose from a configured secret (HMAC-SHA256 as the PRF), so that a MAC made for one
    purpose (an audit entry, a checkpoint, a manifest) never verifies as another."""
    return hmac.new(secret, f"cognigy-archiver/{purpose}".encode(), hashlib.sha256).digest()


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
        self.positions: dict[str, AuditHead] = {}  # event id -> where its entry is
        self.hashes: list[str] = []  # of every line seen, by sequence number - 1
        self._read_up_to = 0  # bytes of the file this process has seen
        self._unmirrored: dict[int, bytes] = {}  # entries written here, not yet copied to the storage

    async def append(self, event_id: str, action: str, export_id: str, data: dict[str, Any],
                     at: datetime | None = None) -> bool:
        """Write one entry durably (and copy it to the storage); False if this event id was written before."""
        written = await asyncio.to_thread(self._append, event_id, action, export_id, data, at or datetime.now(UTC))
        await self._mirror()
        await self._checkpoint()
        return written

    async def knows(self, event_id: str) -> bool:
        """Whether an entry with this event id is in the log (as any writer has it now)."""
        await asyncio.to_thread(self._refresh)
        return event_id in self.positions

    @property
    def head(self) -> AuditHead:
        """The last entry this process has seen."""
        return AuditHead(seq=len(self.hashes), sha256=self.hashes[-1] if self.hashes else GENESIS)

    async def catch_up_storage(self) -> None:
        """Copy to the storage every local entry it lacks (after a crash between the two writes)."""
        if self.store is None:
            return
        stored = set(await self.store.keys(STORAGE_FOLDER))
        lines = await asyncio.to_thread(_lines, self.path)
        self._unmirrored.update((seq, line) for seq, line in enumerate(lines, start=1)
                                if storage_key(seq) not in stored)
        await self._mirror()
        await asyncio.to_thread(self._refresh)
        await self._checkpoint()

    async def _mirror(self) -> None:
        if self.store is None:
            return
        for seq in sorted(self._unmirrored):
            await self.store.put(storage_key(seq), self._unmirrored[seq])
            del self._unmirrored[seq]

    async def _checkpoint(self) -> None:
        """Move the signed head checkpoint on to this process's head, if that is further along the same
        chain. A checkpoint ahead of the log, or on another chain, stays: it is the evidence of a rollback."""
        if self.store is None or not self.hashes:
            return
        try:
            current = await read_checkpoint(self.store, self.key)
        except AuditTampered:
            current = None  # not ours: replaced by a true one (`audit verify` reports it until then)
        if current is not None and current.seq > len(self.hashes):
            await asyncio.to_thread(self._refresh)  # another writer may have gone on since this one appended
        if current is not None:
            if current.seq > len(self.hashes) or self.hashes[current.seq - 1] != current.sha256:
                log.error("the audit log at %s is not the log its checkpoint in the storage vouches for (entry %d): "
                          "entries were removed or rewritten; run `cognigy-archiver audit verify`", self.path,
                          current.seq)
                return
            if current.seq == len(self.hashes):
                return
        await self.store.put(CHECKPOINT_KEY, checkpoint_bytes(self.key, self.head))

    def _refresh(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            self._read_new_lines(f)

    def _append(self, event_id: str, action: str, export_id: str, data: dict[str, Any], at: datetime) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
            self._read_new_lines(f)
            if event_id in self.positions:
                return False
            head = self.head
            entry: dict[str, Any] = {"seq": head.seq + 1, "event_id": event_id, "ts": at.isoformat(),
                                     "action": action, "export_id": export_id, "data": data,
                                     "prev_sha256": head.sha256}
            entry["hmac"] = entry_hmac(self.key, entry)
            line = _canonical(entry)
            f.seek(0, 2)
            f.write(line + b"\n")
            f.flush()
            os.fsync(f.fileno())
            self._see(line)
            self._read_up_to = f.tell()
            self._unmirrored[len(self.hashes)] = line
        return True

    def _read_new_lines(self, f: BinaryIO) -> None:
        """Learn the entries other writers appended since this process last looked."""
        f.seek(self._read_up_to)
        for line in f.read().splitlines():
            if line.strip():
                self._see(line)
        self._read_up_to = f.tell()

    def _see(self, line: bytes) -> None:
        self.hashes.append(hashlib.sha256(line).hexdigest())
        self.positions[json.loads(line)["event_id"]] = self.head


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


def authentic_entries(lines: list[bytes], key: bytes) -> list[dict[str, Any]]:
    """The entries whose HMAC matches (what a forger could not have written), in order."""
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and hmac.compare_digest(str(entry.get("hmac", "")), entry_hmac(key, entry)):
            out.append(entry)
    return out


async def read_log(path: Path, store: ObjectStore) -> tuple[list[bytes], str]:
    """The log's lines and where they were read: the local file, or (on a host without it) the storage copy."""
    if await asyncio.to_thread(path.exists):
        return await asyncio.to_thread(_lines, path), str(path)
    keys = [k for k in await store.keys(STORAGE_FOLDER) if _ENTRY_KEY.fullmatch(k)]
    return [await store.get(k) for k in keys], store.location(STORAGE_FOLDER)


def checkpoint_bytes(key: bytes, head: AuditHead) -> bytes:
    return _canonical({"seq": head.seq, "sha256": head.sha256, "hmac": _checkpoint_mac(key, head)})


def _checkpoint_mac(key: bytes, head: AuditHead) -> str:
    content = _canonical({"seq": head.seq, "sha256": head.sha256})
    return hmac.new(derive_key(key, "audit-checkpoint"), content, hashlib.sha256).hexdigest()


async def read_checkpoint(store: ObjectStore, key: bytes) -> AuditHead | None:
    """The signed head checkpoint, None if there is none; AuditTampered if it is not one we signed."""
    try:
        data = await store.get(CHECKPOINT_KEY)
    except ObjectMissing:
        return None
    try:
        fields = json.loads(data)
        head = AuditHead(seq=int(fields["seq"]), sha256=str(fields["sha256"]))
        signature = str(fields["hmac"])
    except (ValueError, TypeError, KeyError):
        raise AuditTampered(f"{store.location(CHECKPOINT_KEY)}: not a head checkpoint") from None
    if head.seq < 1 or not hmac.compare_digest(signature, _checkpoint_mac(key, head)):
        raise AuditTampered(f"{store.location(CHECKPOINT_KEY)}: its HMAC does not match its content (edited, or "
                            "signed with another key)")
    return head


async def verify_head(lines: list[bytes], store: ObjectStore, key: bytes) -> list[str]:
    """Differences between the log and its signed head checkpoint: a log truncated or emptied in both places."""
    try:
        head = await read_checkpoint(store, key)
    except AuditTampered as exc:
        return [exc.message]
    where = store.location(CHECKPOINT_KEY)
    if head is None:
        return [f"no head checkpoint at {where}, though the log has {len(lines)} entries: it was deleted (the "
                "next entry, or the notifier's start, writes one)"] if lines else []
    if head.seq > len(lines):
        removed = f"entry {head.seq}" if head.seq == len(lines) + 1 else f"entries {len(lines) + 1}-{head.seq}"
        return [f"the log has {len(lines)} entries, its head checkpoint ({where}) says {head.seq}: {removed} "
                "were removed (truncated or emptied, here and in the storage copy)"]
    if hashlib.sha256(lines[head.seq - 1]).hexdigest() != head.sha256:
        return [f"entry {head.seq}: differs from the head checkpoint ({where}): the log was rewritten from there"]
    return []


async def verify_against_storage(path: Path, store: ObjectStore) -> list[str]:
    """Differences between the local log and its copy in the storage (a truncated or rewritten log)."""
    local = await asyncio.to_thread(_lines, path)
    stored = [k for k in await store.keys(STORAGE_FOLDER) if _ENTRY_KEY.fullmatch(k)]
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
