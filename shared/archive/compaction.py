"""Compaction of a complete Parquet export: its small files merged, when it completes, so that a small export
is a file per conversation date, not a file per date and input partition and window.

The archiver cuts files where a replay can cut them again (stages/archiver/file_windows.py), so an export is
spread over at least one file per input partition and date, however few records it has. Once every page is in,
the notifier merges, per date and tokenization key, consecutive files (in input partition and offset order)
while the merged file stays within one row group (`row_group_records`): one read of a row group then serves a
day of a small export. A merged file is `<first file's key>.c.parquet`, its metadata lists every page part of
the files it replaces, and it is encrypted under the export's data key like them.

Crash-safe in the order erasure uses: merged files and their metadata first, then the manifest naming them,
then the files they replace are deleted. Run again after a crash at any point it finishes the same way: a
merged file already there (with its metadata) is kept, and a file whose page parts are all in a merged file
is one it replaced, deleted, never merged again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from shared.archive.keystore import KeyStore
from shared.archive.parquet_records import file_keys, read_records_table
from shared.archive.segments import (
    SegmentMeta,
    encode_parquet_tables,
    meta_key,
    page_parts,
    read_meta,
    records_key,
    sha256_hex,
    write_meta,
)
from shared.archive.storage import ObjectMissing, ObjectStore
from shared.archive.subject_index import joined_segments

log = logging.getLogger(__name__)


class Compaction:
    """What compacting an export comes to: the segments its manifest lists, and the objects to delete once
    that manifest is written."""

    def __init__(self, segments: list[SegmentMeta], replaced: list[SegmentMeta]) -> None:
        self.segments = segments
        self.replaced = replaced

    @property
    def obsolete_keys(self) -> list[str]:
        return [key for s in self.replaced for key in (s.key, meta_key(s.key))]


async def compact_export(store: ObjectStore, keys: KeyStore | None, export_id: str, segments: list[SegmentMeta],
                         row_group_records: int) -> Compaction:
    """Merge the export's small Parquet files (module docstring); `segments` are the metadata of its files,
    merged ones from an earlier run included."""
    merged = [s for s in segments if s.compacted]
    covered = {(s.conversation_date, p.page_index, p.source_offset) for s in merged for p in s.pages}
    replaced = [s for s in segments if not s.compacted and s.format == "parquet" and
                all((s.conversation_date, p.page_index, p.source_offset) in covered for p in page_parts(s))]
    replaced_keys = {s.key for s in replaced}
    rest = [s for s in segments if not s.compacted and s.key not in replaced_keys]
    kept: list[SegmentMeta] = [s for s in rest if s.format != "parquet"]
    for run in _runs([s for s in rest if s.format == "parquet"], row_group_records):
        if len(run) == 1:
            kept.extend(run)
            continue
        if any(s.encryption for s in run) and (keys is None or keys.wrapper is None):
            log.warning("export %s: its encrypted files are not compacted: no master key here", export_id,
                        extra={"export_id": export_id})
            kept.extend(run)
            continue
        compacted = await _merge(store, keys, export_id, run)
        if compacted is None:
            kept.extend(run)
            continue
        merged.append(compacted)
        replaced.extend(run)
    return Compaction(sorted([*merged, *kept], key=lambda m: (min(p.page_index for p in page_parts(m)), m.key)),
                      replaced)


def _runs(files: list[SegmentMeta], row_group_records: int) -> list[list[SegmentMeta]]:
    """Consecutive files of one date and key, in input partition and offset order, grouped while their
    records fit one row group (a file as large on its own stays alone)."""
    groups: dict[tuple[str, str, str], list[SegmentMeta]] = defaultdict(list)
    for s in files:
        groups[(s.conversation_date, s.key_id, s.key_check)].append(s)
    runs: list[list[SegmentMeta]] = []
    for group_key in sorted(groups):
        run: list[SegmentMeta] = []
        for s in sorted(groups[group_key], key=lambda m: (m.source_topic, m.source_partition, m.source_offset)):
            if run and sum(m.records for m in run) + s.records > row_group_records:
                runs.append(run)
                run = []
            run.append(s)
        runs.append(run)
    return runs


async def _merge(store: ObjectStore, keys: KeyStore | None, export_id: str, run: list[SegmentMeta],
                 ) -> SegmentMeta | None:
    """The run merged into one file (None, and a warning, if one of its files is not what its metadata says:
    they are left for `archive verify` to report)."""
    first = run[0]
    key = records_key(export_id, first.conversation_date, first.source_topic, first.source_partition,
                      first.source_offset, compacted=True)
    try:
        return await read_meta(store, key)  # merged before a crash: the file is there (its metadata came after)
    except ObjectMissing:
        pass
    data_key = await keys.data_key(export_id) if keys is not None and first.encryption else None
    master_key_id = keys.wrapper.key_id if keys is not None and keys.wrapper is not None else ""
    tables = []
    for s in run:  # each file checked against its metadata before its records are trusted
        data = await store.get(s.key)
        if sha256_hex(data) != s.sha256:
            log.warning("export %s: %s differs from its metadata: its date is not compacted", export_id, s.key,
                        extra={"export_id": export_id})
            return None
        file_key = file_keys(data_key, s.encryption.master_key_id) if data_key and s.encryption else None
        tables.append(await asyncio.to_thread(read_records_table, data, keys=file_key))
    data, encryption = await asyncio.to_thread(encode_parquet_tables, tables, data_key, master_key_id,
                                               sum(s.records for s in run))
    meta = SegmentMeta(
        key=key, sha256=sha256_hex(data), bytes=len(data), records=sum(s.records for s in run), format="parquet",
        page_index=first.page_index, source_topic=first.source_topic, source_partition=first.source_partition,
        source_offset=first.source_offset, key_id=first.key_id, key_check=first.key_check, encryption=encryption,
        subjects=joined_segments([(s.subjects, s.records) for s in run]),
        pages=[p for s in run for p in page_parts(s)], conversation_date=first.conversation_date, compacted=True)
    await store.put(key, data)
    await write_meta(store, meta)
    return meta
