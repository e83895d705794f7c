"""The audit log: hash-chained, HMAC-signed entries, deduplicated by event id, copied to the archive
storage; `audit verify` catches an edited, removed, reordered or forged entry, and a truncated log."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from shared.archive.audit import AuditLog, verify_against_storage, verify_log
from shared.archive.storage import FilesystemStore
from tests.archive_fixtures import cli

KEY = b"audit-test-key-0123456789abcdef0123"


async def write_log(tmp_path: Path, entries: int = 4) -> tuple[Path, FilesystemStore]:
    path, store = tmp_path / "audit.jsonl", FilesystemStore(tmp_path / "archive")
    log = AuditLog(path, KEY, store)
    for i in range(entries):
        assert await log.append(f"ev-{i}", "export archived", f"exp-{i}", {"records": i})
    return path, store


async def test_entries_are_chained_signed_and_written_once(tmp_path: Path) -> None:
    path, store = await write_log(tmp_path)
    again = AuditLog(path, KEY, store)  # a restarted process
    assert not await again.append("ev-1", "export archived", "exp-1", {"records": 1})
    assert await again.append("ev-9", "export expired", "exp-9", {})
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert verify_log(path, KEY) == []
    assert await verify_against_storage(path, store) == []


@pytest.mark.parametrize(("tamper", "expected"), [
    ("edit", ["entry 2: HMAC does not match its content (edited, or another key)",
              "entry 3: chain broken (an entry before it was removed, edited or moved)"]),
    ("remove", ["entry 2: chain broken (an entry before it was removed, edited or moved)",
                "entry 2: has sequence number 3", "entry 3: has sequence number 4"]),
    ("reorder", ["entry 2: chain broken (an entry before it was removed, edited or moved)",
                 "entry 2: has sequence number 3",
                 "entry 3: chain broken (an entry before it was removed, edited or moved)",
                 "entry 3: has sequence number 2",
                 "entry 4: chain broken (an entry before it was removed, edited or moved)"]),
    ("forge", ["entry 5: HMAC does not match its content (edited, or another key)"]),
])
async def test_verify_catches_tampering(tmp_path: Path, tamper: str, expected: list[str]) -> None:
    path, _ = await write_log(tmp_path)
    lines = path.read_bytes().splitlines()
    if tamper == "edit":
        lines[1] = lines[1].replace(b'"records":1', b'"records":7')
    elif tamper == "remove":
        del lines[1]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    else:  # a well-formed entry appended by someone without the key
        forged = {"seq": 5, "event_id": "ev-x", "ts": "2026-10-01T00:00:00+00:00", "action": "export expired",
                  "export_id": "exp-0", "data": {}, "prev_sha256": hashlib.sha256(lines[-1]).hexdigest(),
                  "hmac": "0" * 64}
        lines.append(json.dumps(forged, sort_keys=True, separators=(",", ":")).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert verify_log(path, KEY) == expected


async def test_a_truncated_log_disagrees_with_its_storage_copy(tmp_path: Path) -> None:
    path, store = await write_log(tmp_path)
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # the last entry removed: the chain alone cannot tell
    assert verify_log(path, KEY) == []
    assert await verify_against_storage(path, store) == [
        "the storage copy has 4 entries, the local log 3: entries were removed from the end"]


async def test_a_crash_between_the_two_writes_is_caught_up(tmp_path: Path) -> None:
    path, store = await write_log(tmp_path, entries=2)
    await store.delete(["@audit/000000000002.json"])  # as if the process died before copying it
    restarted = AuditLog(path, KEY, store)
    await restarted.catch_up_storage()
    assert await verify_against_storage(path, store) == []


async def test_two_writers_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = AuditLog(path, KEY), AuditLog(path, KEY)
    await asyncio.gather(*(log.append(f"ev-{i}-{n}", "x", "e", {}) for i in range(20)
                           for n, log in enumerate((first, second))))
    assert not await first.append("ev-3-1", "x", "e", {})  # written by the other writer: still known
    assert verify_log(path, KEY) == [] and len(path.read_bytes().splitlines()) == 40


async def test_the_command_exits_non_zero_on_tampering(tmp_path: Path) -> None:
    path, _ = await write_log(tmp_path)
    env = {"CA_AUDIT_LOG_PATH": str(path), "CA_ARCHIVE_DIR": str(tmp_path / "archive"),
           "CA_AUDIT_HMAC_KEY": KEY.decode()}
    ok = cli("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stderr
    summary, anchors = ok.stdout.strip().splitlines()
    assert summary.endswith("OK, 4 entries, chain and signatures intact, storage copy matches")
    assert "nothing was cut off the end" in anchors
    path.write_bytes(path.read_bytes().replace(b'"records":2', b'"records":0'))
    bad = cli("audit", "verify", env=env)
    assert bad.returncode == 1 and "entry 3: HMAC does not match" in bad.stderr
    assert "entry 3: differs from the storage copy" in bad.stderr and KEY.decode() not in bad.stderr
