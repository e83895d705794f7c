"""Exports archived as Parquet by the archiver's and the notifier's own code (in-process): a handful of large
files per export, Hive-partitioned by conversation date, that DuckDB and pyarrow read where they lie; verify
catches what it catches for segments; encrypted files read back with the export's key only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pytest

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.encryption import LocalMasterKey
from shared.archive.keystore import KeyStore
from shared.archive.parquet_records import conversation_date
from shared.archive.reader import read_export_records, verify_export
from shared.archive.segments import page_parts
from shared.archive.storage import FilesystemStore
from shared.errors import DataKeyMissing
from tests.archive_fixtures import conversation_records

RECORDS = conversation_records(600)
PAGES = [RECORDS[i:i + 50] for i in range(0, 600, 50)]
MASTER = LocalMasterKey(bytes(range(32)), "m1")


def by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: r["id"])


async def test_a_parquet_export_is_a_few_partitioned_files_that_engines_read_as_they_are(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    manifest = await archive_export(store, "exp-pq", PAGES, fmt="parquet")
    dates = Counter(conversation_date(r) for r in RECORDS)
    # Pages read from two partitions: the archiver wrote a file per partition and date, merged on completion
    # into one per date; the files they replaced are gone.
    assert len(manifest.segments) == len(dates)
    stored = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet"))
    assert stored == sorted(s.key for s in manifest.segments)
    even, odd = ({conversation_date(r) for p in PAGES[start::2] for r in p} for start in (0, 1))
    both = even & odd
    assert {s.conversation_date for s in manifest.segments if s.compacted} == both
    assert all(s.key.startswith(f"exp-pq/records/conversation_date={s.conversation_date}/") and
               s.key.endswith(".parquet") for s in manifest.segments)
    report = await verify_export(store, "exp-pq")
    assert report.ok, report.problems
    assert (report.records, manifest.records, manifest.total_pages) == (600, 600, 12)
    assert by_id(await read_export_records(store, "exp-pq")) == by_id(RECORDS)
    # Every page accounted for, its records over its files adding up.
    per_page = Counter[int]()
    for s in manifest.segments:
        for part in page_parts(s):
            per_page[part.page_index] += part.records
    assert per_page == {i: 50 for i in range(12)}

    glob = f"{tmp_path}/*/records/*/*.parquet"
    con = duckdb.connect()
    rows = con.execute(f"select conversation_date, count(*) from read_parquet('{glob}', hive_partitioning = true) "
                   "group by 1 order by 1").fetchall()
    assert [(str(d), n) for d, n in rows] == sorted(dates.items())
    day = max(dates, key=lambda d: dates[d])
    one_day = con.execute(f"select count(*), count(distinct sessionId) from read_parquet('{glob}', "
                      f"hive_partitioning = true) where conversation_date = '{day}'").fetchone()
    assert one_day == (dates[day], len({r["sessionId"] for r in RECORDS if conversation_date(r) == day}))
    table = ds.dataset(str(tmp_path / "exp-pq" / "records"), format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 600 and str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"


async def test_verify_catches_a_flipped_byte_a_missing_file_and_a_stray_one(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    manifest = await archive_export(store, "exp-bad", PAGES, fmt="parquet")
    first, second = (tmp_path / s.key for s in manifest.segments[:2])
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0x01
    first.write_bytes(bytes(data))
    second.unlink()
    stray = "exp-bad/records/conversation_date=2025-01-01/stray.parquet"
    await store.put(stray, b"not ours")
    assert (await verify_export(store, "exp-bad")).problems == [
        f"{manifest.segments[0].key}: SHA-256 differs from the manifest",
        f"{manifest.segments[1].key}: missing from the archive",
        f"{stray}: in the archive but not in the manifest",
    ]


async def test_encrypted_files_read_back_with_the_export_key_and_not_without(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    manifest = await archive_export(store, "exp-enc", PAGES, fmt="parquet", keys=keys)
    assert manifest.encryption is not None and all(s.encryption is not None for s in manifest.segments)
    report = await verify_export(store, "exp-enc", keys)
    assert report.ok and report.plaintext_checked and report.records == 600, report.problems
    assert by_id(await read_export_records(store, "exp-enc", keys)) == by_id(RECORDS)
    without_key = await verify_export(store, "exp-enc")
    assert without_key.ok and not without_key.plaintext_checked  # the stored bytes still checked
    first = tmp_path / "archive" / manifest.segments[0].key
    with pytest.raises(duckdb.Error):  # no engine reads it without the key
        duckdb.execute(f"select count(*) from read_parquet('{first}')").fetchall()
    await keys.destroy("exp-enc")
    with pytest.raises(DataKeyMissing):
        await read_export_records(store, "exp-enc", keys)


async def test_the_documented_query_over_a_whole_archive_sees_complete_exports_only(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await archive_export(store, "exp-one", PAGES[:6], fmt="parquet")
    await archive_export(store, "exp-two", PAGES[6:], fmt="parquet")
    await archive_export(store, "exp-busy", PAGES[:2], fmt="parquet")
    await store.delete(["exp-busy/manifest.json"])  # still being archived: files written, no manifest yet
    con = duckdb.connect()
    everything = con.execute(f"select count(*) from read_parquet('{tmp_path}/*/records/*/*.parquet', "
                             "hive_partitioning = true)").fetchall()
    # docs/archive-format.md, "Layout" (and the README), as written there but for the archive's path:
    con.execute(f"""SET VARIABLE files = (
        select list('{tmp_path}/' || s.key)
        from (select unnest(segments) as s from read_json('{tmp_path}/*/manifest.json')))""")
    day = "2025-01-06"
    complete = con.execute(f"""select conversation_date, count(*) as records, count(distinct sessionId)
        from read_parquet(getvariable('files'), hive_partitioning = true)
        where conversation_date = '{day}' group by 1""").fetchall()
    assert everything == [(700,)]
    assert [(str(d), n, c) for d, n, c in complete] == [
        (day, sum(1 for r in RECORDS if conversation_date(r) == day),
         len({r["sessionId"] for r in RECORDS if conversation_date(r) == day}))]
