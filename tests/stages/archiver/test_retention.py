"""Retention: `archive expire` (and the archiver's periodic task) deletes exactly the exports whose
retention has run out and that have no legal hold, and writes each deletion to the audit log."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog, verify_log
from shared.archive.keystore import KeyStore
from shared.archive.retention import expire_exports, expire_periodically, release_legal_hold, set_legal_hold
from shared.archive.storage import FilesystemStore
from tests.archive_fixtures import cli, conversation_records

KEY = b"retention-test-key-0123456789abcd"
DONE = datetime(2026, 10, 1, tzinfo=UTC)
PAGES = [conversation_records(10)]


def key_store(tmp_path: Path) -> KeyStore:
    return KeyStore(FilesystemStore(tmp_path / "keys"), None)


async def three_exports(tmp_path: Path) -> tuple[FilesystemStore, AuditLog]:
    store = FilesystemStore(tmp_path / "archive")
    audit = AuditLog(tmp_path / "audit.jsonl", KEY, store)
    await archive_export(store, "exp-short", PAGES, retention_days=30, completed_at=DONE)
    await archive_export(store, "exp-held", PAGES, retention_days=30, completed_at=DONE)
    await archive_export(store, "exp-long", PAGES, retention_days=365, completed_at=DONE)
    await archive_export(store, "exp-forever", PAGES, completed_at=DONE)
    await store.put("exp-unfinished/segments/x.jsonl.zst", b"no manifest yet")
    await set_legal_hold(store, audit, "exp-held", "litigation 2026-17", DONE)
    return store, audit


async def test_only_expired_exports_without_a_hold_are_deleted_and_logged(tmp_path: Path) -> None:
    store, audit = await three_exports(tmp_path)
    now = DONE + timedelta(days=31)
    results = {r.export_id: r.outcome for r in await expire_exports(store, key_store(tmp_path), audit, now)}
    assert results == {"exp-short": "expired", "exp-held": "held", "exp-long": "kept", "exp-forever": "kept",
                       "exp-unfinished": "no manifest"}  # and the audit copy (@audit) is no export
    assert await store.keys("exp-short") == []
    assert await store.folders() == ["@audit", "exp-forever", "exp-held", "exp-long", "exp-unfinished"]
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_bytes().splitlines()]
    assert [(e["action"], e["export_id"]) for e in entries] == [("legal hold set", "exp-held"),
                                                                ("export expired", "exp-short")]
    # segment, its metadata, the dictionary, the subject index, the manifest
    assert entries[1]["data"]["objects"] == 5
    # Run again: nothing more to do, nothing logged twice.
    assert "expired" not in {r.outcome for r in await expire_exports(store, key_store(tmp_path), audit, now)}
    assert verify_log(tmp_path / "audit.jsonl", KEY) == []
    # Released, the held export goes at the next run.
    await release_legal_hold(store, audit, "exp-held", now)
    results = await expire_exports(store, key_store(tmp_path), audit, now)
    assert {r.export_id for r in results if r.outcome == "expired"} == {"exp-held"}


async def test_a_dry_run_deletes_nothing(tmp_path: Path) -> None:
    store, audit = await three_exports(tmp_path)
    before = await store.keys("exp-short")
    results = await expire_exports(store, key_store(tmp_path), audit, DONE + timedelta(days=400), dry_run=True)
    assert sorted(r.export_id for r in results if r.outcome == "expired") == ["exp-long", "exp-short"]
    assert await store.keys("exp-short") == before


async def test_the_archivers_periodic_task_expires(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    audit = AuditLog(tmp_path / "audit.jsonl", KEY, store)
    await archive_export(store, "exp-old", PAGES, retention_days=1, completed_at=datetime.now(UTC) - timedelta(days=2))
    stop = asyncio.Event()
    task = asyncio.create_task(expire_periodically(store, key_store(tmp_path), audit, 0.1, stop))
    for _ in range(50):
        if not await store.keys("exp-old"):
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await store.keys("exp-old") == []


async def test_the_command_expires_and_reports(tmp_path: Path) -> None:
    await three_exports(tmp_path)
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
           "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"),
           "CA_AUDIT_HMAC_KEY": KEY.decode()}
    result = cli("archive", "expire", "--now", "2026-11-15T00:00:00Z", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "expired      exp-short (expires 2026-10-31 00:00Z), 5 objects" in lines
    assert "held         exp-held (expires 2026-10-31 00:00Z)" in lines
    assert lines[-1] == "1 export(s) expired, 1 held"
