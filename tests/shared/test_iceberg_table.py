"""The optional Iceberg table over the Parquet archive (shared/archive/iceberg_table.py), on pyiceberg's SQL
catalog over SQLite: each export committed once whatever is replayed or interrupted, read back with pyiceberg's
scan, expiry and erasure reflected in the table with no snapshot left naming a deleted file, encrypted exports
kept out. (DuckDB's iceberg extension is not used: the one on PyPI, duckdb-ext-iceberg 1.4.4, loads only into
DuckDB 1.4.4, and the project reads with DuckDB 2.)"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyiceberg", reason="the `iceberg` extra is not installed")

from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

from cognigy_archiver.subject_erase import erase_subject, sweep_all
from cognigy_archiver.subject_identifiers import SubjectRequest, probes, request_id
from cognigy_archiver.subject_search import find_subject
from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog
from shared.archive.encryption import LocalMasterKey
from shared.archive.iceberg_table import ArchiveTable, file_location, open_table, sync_archive
from shared.archive.keystore import KeyStore
from shared.archive.manifest import Manifest, read_manifest
from shared.archive.parquet_records import conversation_date
from shared.archive.retention import expire_exports
from shared.archive.storage import FilesystemStore
from shared.errors import ConfigError
from shared.settings import Settings, load_settings
from tests.archive_fixtures import conversation_records

RECORDS = conversation_records(600)
PAGES = [RECORDS[i:i + 50] for i in range(0, 600, 50)]
MASTER = LocalMasterKey(bytes(range(32)), "m1")
NOW = datetime(2026, 11, 1, tzinfo=UTC)
AUDIT_KEY = b"iceberg-test-audit-key-0123456789abcdef"
TOKENIZATION_KEY = "iceberg-test-tokenization-key-0123456789"


def iceberg_settings(tmp_path: Path, **more: str) -> Settings:
    return load_settings({"CA_ICEBERG_CATALOG": "sql", "CA_ICEBERG_WAREHOUSE": str(tmp_path / "warehouse"),
                          "CA_TOKENIZATION_KEY": TOKENIZATION_KEY, **more})


def table_files(table: ArchiveTable) -> list[str]:
    return sorted(table.table.inspect.files().column("file_path").to_pylist())


def wanted(store: FilesystemStore, manifest: Manifest) -> list[str]:
    return sorted(file_location(store, s.key) for s in manifest.segments)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in rows)


async def test_an_export_is_committed_once_and_reads_back_by_day(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    manifest = await archive_export(store, "exp-ice", PAGES, fmt="parquet")
    settings = iceberg_settings(tmp_path)
    table = await open_table(settings, store)
    first = await sync_archive(store, table, NOW)
    assert [(c.export_id, c.outcome, c.added) for c in first] == [("exp-ice", "added", len(manifest.segments))]
    # Replayed, by the same process and by a new one: nothing changes.
    assert [c.outcome for c in await sync_archive(store, table, NOW)] == ["unchanged"]
    again = await open_table(settings, store)
    assert [c.outcome for c in await sync_archive(store, again, NOW)] == ["unchanged"]
    assert len(again.table.metadata.snapshots) == 1
    assert again.table.current_snapshot().summary["cognigy-archiver.export-id"] == "exp-ice"  # type: ignore[union-attr]
    assert table_files(again) == wanted(store, manifest)  # no copy: the archive's own files

    scanned = again.table.scan().to_arrow()
    assert scanned.num_rows == 600 and ids(scanned.to_pylist()) == ids(RECORDS)
    # Partitioned by day(timestamp): a day's scan plans that day's files only, and finds that day's records.
    day = conversation_date(RECORDS[300])
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    one_day = And(GreaterThanOrEqual("timestamp", start.isoformat()),
                  LessThan("timestamp", start.replace(day=start.day + 1).isoformat()))
    planned = {task.file.file_path for task in again.table.scan(row_filter=one_day).plan_files()}
    assert planned == {file_location(store, s.key) for s in manifest.segments if s.conversation_date == day}
    rows = again.table.scan(row_filter=one_day, selected_fields=("id",)).to_arrow().to_pylist()
    assert ids(rows) == ids([r for r in RECORDS if conversation_date(r) == day])


async def test_a_commit_that_raced_or_crashed_before_its_bookkeeping_is_not_repeated(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    manifest = await archive_export(store, "exp-race", PAGES, fmt="parquet")
    settings = iceberg_settings(tmp_path)
    slow, fast = await open_table(settings, store), await open_table(settings, store)
    assert await slow.export_ids() == set()  # it has read the (empty) table
    # Another writer (or this one, before it crashed) committed the export in the meantime.
    assert (await fast.commit_export(manifest)).outcome == "added"
    change = await slow.commit_export(manifest)  # its view is stale: the catalog refuses, it reads again
    assert change.outcome == "unchanged"
    fresh = await open_table(settings, store)
    assert table_files(fresh) == wanted(store, manifest) and len(fresh.table.metadata.snapshots) == 1
    assert fresh.table.scan().to_arrow().num_rows == 600


async def test_expiry_removes_the_export_from_the_table_before_its_files_and_keeps_no_snapshot_of_them(
        tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    await archive_export(store, "exp-old", PAGES[:4], fmt="parquet", retention_days=1,
                         completed_at=datetime(2026, 10, 1, tzinfo=UTC))
    kept = await archive_export(store, "exp-new", PAGES[4:], fmt="parquet")
    table = await open_table(iceberg_settings(tmp_path), store)
    assert sorted(c.outcome for c in await sync_archive(store, table, datetime(2026, 10, 1, 12, tzinfo=UTC))) == [
        "added", "added"]
    audit = AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store)

    results = await expire_exports(store, KeyStore(FilesystemStore(tmp_path / "keys"), MASTER), audit, NOW,
                                   table=table)
    assert {r.export_id: r.outcome for r in results} == {"exp-old": "expired", "exp-new": "kept"}
    assert table_files(table) == wanted(store, kept)
    # Only the snapshot after the removal is left: time travel cannot reach the expired files.
    assert len(table.table.metadata.snapshots) == 1
    assert table.table.scan().to_arrow().num_rows == 400
    assert [c.outcome for c in await sync_archive(store, table, NOW)] == ["unchanged"]


async def test_an_export_past_its_retention_is_not_committed_and_one_gone_from_the_archive_is_removed(
        tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    await archive_export(store, "exp-due", PAGES[:2], fmt="parquet", retention_days=1,
                         completed_at=datetime(2026, 10, 1, tzinfo=UTC))
    gone = await archive_export(store, "exp-gone", PAGES[2:4], fmt="parquet")
    table = await open_table(iceberg_settings(tmp_path), store)
    assert [c.export_id for c in await sync_archive(store, table, datetime(2026, 10, 1, tzinfo=UTC))] == [
        "exp-due", "exp-gone"]
    # Retention ran without the table: the folder is gone, the table still names its files.
    await store.delete(await store.keys("exp-gone"))
    changes = await sync_archive(store, table, NOW)
    assert [(c.export_id, c.outcome, c.removed) for c in changes] == [
        ("exp-due", "skipped", 0), ("exp-gone", "removed", len(gone.segments))]
    fresh = await open_table(iceberg_settings(tmp_path), store)
    assert {path.split("/records/")[0].rsplit("/", 1)[1] for path in table_files(fresh)} == {"exp-due"}
    # A table that did not hold the due export yet does not get it.
    other = await open_table(iceberg_settings(tmp_path / "other"), store)
    assert [(c.outcome, c.reason) for c in await sync_archive(store, other, NOW)] == [
        ("skipped", "past its retention: `archive expire` deletes it")]
    assert table_files(other) == []


async def test_an_erasure_replaces_the_rewritten_files_in_one_commit(tmp_path: Path) -> None:
    settings = iceberg_settings(tmp_path)
    found = probes(SubjectRequest(contact_id=["user-1"]), settings)
    contact = found[0].value
    pages = [[{**r, "contactId": contact if n % 7 == 0 else r["contactId"]} for n, r in enumerate(page)]
             for page in PAGES]
    store = FilesystemStore(tmp_path / "archive")
    manifest = await archive_export(store, "exp-erase", pages, fmt="parquet")
    table = await open_table(settings, store)
    await sync_archive(store, table, NOW)

    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    search = await find_subject(store, keys, found, "k1")
    audit = AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store)
    erased = await erase_subject(store, audit, search, request_id(found), "", False, now=NOW, table=table)
    after = await read_manifest(store, "exp-erase")
    assert erased[0].segments and all(".e1." in key for key in erased[0].segments)
    assert table_files(table) == wanted(store, after) != wanted(store, manifest)
    snapshots = table.table.metadata.snapshots
    assert len(snapshots) == 1 and snapshots[0].summary.operation.value == "overwrite"  # type: ignore[union-attr]
    remaining = table.table.scan().to_arrow().to_pylist()
    assert contact not in {r["contactId"] for r in remaining}
    assert ids(remaining) == ids([r for page in pages for r in page if r["contactId"] != contact])
    # The next erase run's sweep, or a sync, finds the table as it should be.
    await sweep_all(store, keys, audit, table)
    assert [c.outcome for c in await sync_archive(store, table, NOW)] == ["unchanged"]


async def test_encrypted_exports_stay_out_of_the_table(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:

    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    await archive_export(store, "exp-sealed", PAGES[:2], fmt="parquet", keys=keys)
    await archive_export(store, "exp-plain", PAGES[2:4], fmt="parquet")
    await archive_export(store, "exp-jsonl", PAGES[4:6], fmt="jsonl")
    with pytest.raises(ConfigError, match="CA_ARCHIVE_ENCRYPTION encrypts"):
        await open_table(iceberg_settings(tmp_path, CA_ARCHIVE_ENCRYPTION="aes-256-gcm"), store)
    with pytest.raises(ConfigError, match="set CA_ICEBERG_CATALOG"):
        await open_table(load_settings({}), store)
    table = await open_table(iceberg_settings(tmp_path), store)
    with caplog.at_level(logging.WARNING, logger="shared.archive.iceberg_table"):
        changes = await sync_archive(store, table, NOW)
    assert [(c.export_id, c.outcome, c.reason) for c in changes] == [
        ("exp-jsonl", "skipped", "jsonl, not parquet"), ("exp-plain", "added", ""),
        ("exp-sealed", "skipped", "encrypted")]
    assert any("exp-sealed: not committed to the Iceberg table: its Parquet files are encrypted" in r.message
               for r in caplog.records)
    assert table.table.scan().to_arrow().num_rows == 100


async def test_the_sync_command_commits_each_authentic_export_once(tmp_path: Path) -> None:
    from tests.archive_fixtures import cli

    store = FilesystemStore(tmp_path / "archive")
    audit = AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store)
    manifest = await archive_export(store, "exp-cli", PAGES[:4], fmt="parquet", audit=audit)
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"),
           "CA_AUDIT_HMAC_KEY": AUDIT_KEY.decode(), "CA_ICEBERG_CATALOG": "sql",
           "CA_ICEBERG_WAREHOUSE": str(tmp_path / "warehouse")}
    first = cli("archive", "iceberg-sync", env=env)
    assert first.returncode == 0, first.stderr
    assert f"added      exp-cli: {len(manifest.segments)} file(s) added, 0 removed" in first.stdout
    again = cli("archive", "iceberg-sync", "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"export_id": "exp-cli", "outcome": "unchanged"}
    off = cli("archive", "iceberg-sync", env={**env, "CA_ICEBERG_CATALOG": "none"})
    assert off.returncode == 2 and "set CA_ICEBERG_CATALOG" in off.stderr
    table = await open_table(iceberg_settings(tmp_path), store)
    assert table_files(table) == wanted(store, manifest) and len(table.table.metadata.snapshots) == 1
