"""Holding pages for Parquet files, and writing a closed chunk (file_windows.py) as files, with the
SegmentWritten of each of its pages.

A page is held converted: its records split by conversation date into Arrow tables of the records schema (and
their subject index entries), so what a chunk holds takes about what its records take in Parquet's columns,
and a record that has no exact Parquet form is refused when its page arrives (the page is dead-lettered then,
as in any stage) rather than when its chunk is written.

A chunk becomes one file per conversation date (the Hive partition engines prune on) and tokenization key (a
file's metadata names one), named by the input offset of its first page, written one after another. A page
whose records fall on two dates is in two files; its SegmentWritten goes out once all of it is written, names
the first, and carries its share of the files' bytes (the shares of a file add up to its size, so the
notifier's quota counts each byte once).

A replay writes nothing that is there: a file whose object and metadata exist is left as it is (an encrypted
file would not come out byte for byte the same: pyarrow draws its file keys at random), and an export whose
manifest exists is complete, so none of its files is touched again (`subject erase` may have replaced them).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy.typing as npt
import pyarrow as pa
from opentelemetry import trace

from shared.archive.encryption import DataKey
from shared.archive.keystore import KeyStore
from shared.archive.parquet_records import DEFAULT_PARTITION, conversation_date, records_table
from shared.archive.segments import (
    PagePart,
    SegmentEncryption,
    SegmentMeta,
    encode_parquet_tables,
    manifest_key,
    read_meta,
    records_key,
    sha256_hex,
    write_meta,
)
from shared.archive.storage import ObjectMissing, ObjectStore
from shared.archive.subject_index import joined_entries, record_entries
from shared.errors import is_retriable
from shared.kafka.loop import Record
from shared.messages import SanitizedPage, SegmentWritten
from shared.telemetry.tracing import tracer
from stages.archiver.file_windows import Chunk


@dataclass(frozen=True)
class DatePart:
    """A held page's records of one conversation date."""

    date: str
    table: pa.Table
    entries: npt.NDArray[Any]  # their subject index entries, numbered from 0


@dataclass(frozen=True)
class HeldPage:
    record: Record  # without its value: the records are in `parts`
    page: SanitizedPage  # without its records
    records: int
    message_bytes: int
    parts: list[DatePart]
    span: trace.SpanContext  # the archiver's span for the page: its trace shows where the records went


def hold(record: Record, page: SanitizedPage, span: trace.SpanContext) -> HeldPage:
    """The page as held (UnarchivableRecord for a record with no exact Parquet form); CPU-bound."""
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in page.records:
        by_date[conversation_date(r)].append(r)
    parts = [DatePart(date, records_table(records), record_entries(records)) for date, records in by_date.items()]
    return HeldPage(record=dataclasses.replace(record, value=None), page=msgspec.structs.replace(page, records=[]),
                    records=len(page.records), message_bytes=len(record.value or b""), parts=parts, span=span)


@dataclass(frozen=True)
class Part:
    """What of a held page goes into one file (no `part` for a page without records)."""

    held: HeldPage
    part: DatePart | None

    @property
    def rows(self) -> int:
        return self.part.table.num_rows if self.part else 0


@dataclass(frozen=True)
class WrittenFile:
    meta: SegmentMeta
    parts: list[Part]


@dataclass(frozen=True)
class ChunkResult:
    events: list[tuple[SegmentWritten, HeldPage]]
    dead: list[tuple[HeldPage, BaseException]]  # pages whose file could not be encoded


GroupKey = tuple[str, str, str]  # (conversation date, tokenization key id, key check)


class ChunkWriter:
    def __init__(self, store: ObjectStore, keys: KeyStore | None, row_group_records: int) -> None:
        self.store = store
        self.keys = keys  # set: encrypt every file
        self.row_group_records = row_group_records

    async def write(self, chunk: Chunk[HeldPage]) -> ChunkResult:
        pages = [held for _, held in chunk.pages]
        encryption = await self._encryption(chunk.export_id)
        dead: dict[int, tuple[HeldPage, BaseException]] = {}
        while True:  # the records were checked when held: a file that still fails takes its pages out
            groups = _groups([h for h in pages if h.record.offset not in dead])
            encoded = []
            for parts in groups.values():  # one at a time: memory for one file's encoding, not all of them
                data = await self._encode(parts, encryption)
                if isinstance(data, Exception):
                    dead.update((p.held.record.offset, (p.held, data)) for p in parts)
                    break
                encoded.append(data)
            else:
                break
        complete = await self.store.exists(manifest_key(chunk.export_id))
        files = [await self._store(date, parts, data, complete)
                 for ((date, _, _), parts), data in zip(groups.items(), encoded, strict=True)]
        return ChunkResult(events=_events(files), dead=list(dead.values()))

    async def _encryption(self, export_id: str) -> tuple[DataKey, str] | None:
        """The export's data key and the id of the master key that wraps it, if files are encrypted."""
        if self.keys is None:
            return None
        data_key = await self.keys.data_key(export_id, create=True)
        assert self.keys.wrapper is not None  # data_key() needs it
        return data_key, self.keys.wrapper.key_id

    async def _encode(self, parts: list[Part], encryption: tuple[DataKey, str] | None,
                      ) -> tuple[bytes, SegmentEncryption | None] | Exception:
        tables = [p.part.table for p in parts if p.part]
        data_key, master_key_id = encryption or (None, "")
        try:
            return await asyncio.to_thread(encode_parquet_tables, tables, data_key, master_key_id,
                                           self.row_group_records)
        except Exception as exc:
            if is_retriable(exc):
                raise
            return exc

    async def _store(self, date: str, parts: list[Part], encoded: tuple[bytes, SegmentEncryption | None],
                     complete: bool) -> WrittenFile:
        data, encryption = encoded
        first = parts[0].held
        key = records_key(first.page.export_id, date, first.record.topic, first.record.partition, first.record.offset)
        records = sum(p.rows for p in parts)
        meta = SegmentMeta(
            key=key, sha256=sha256_hex(data), bytes=len(data), records=records, format="parquet",
            page_index=first.page.page_index, source_topic=first.record.topic,
            source_partition=first.record.partition, source_offset=first.record.offset, key_id=first.page.key_id,
            key_check=first.page.key_check, encryption=encryption,
            subjects=joined_entries([(p.part.entries, p.rows) for p in parts if p.part]), conversation_date=date,
            pages=[PagePart(page_index=p.held.page.page_index, source_offset=p.held.record.offset, records=p.rows)
                   for p in parts])
        if complete:
            return WrittenFile(meta, parts)
        with tracer().start_as_current_span("write parquet file") as span:
            span.set_attributes({"storage.key": key, "storage.bytes": len(data), "storage.records": records,
                                 "storage.pages": len(parts), "storage.encrypted": encryption is not None})
            existing = await self._existing(meta)
            if existing is not None:
                span.set_attribute("storage.skipped", True)
                return WrittenFile(existing, parts)
            await self.store.put(key, data)
            await write_meta(self.store, meta)
        return WrittenFile(meta, parts)

    async def _existing(self, meta: SegmentMeta) -> SegmentMeta | None:
        """What a replay finds of a file written before: its metadata (written after it, if absent)."""
        if not await self.store.exists(meta.key):
            return None
        try:
            return await read_meta(self.store, meta.key)
        except ObjectMissing:
            stored = await self.store.get(meta.key)
            existing = msgspec.structs.replace(meta, sha256=sha256_hex(stored), bytes=len(stored))
            await write_meta(self.store, existing)
            return existing


def _groups(pages: list[HeldPage]) -> dict[GroupKey, list[Part]]:
    """The chunk's pages split into files, in offset order within each; a page without records goes into the
    first file of its key (or, alone, into the default partition), so every page is in some file."""
    groups: dict[GroupKey, list[Part]] = defaultdict(list)
    empty = []
    for held in pages:
        if not held.parts:
            empty.append(Part(held, None))
        for date_part in held.parts:
            groups[(date_part.date, held.page.key_id, held.page.key_check)].append(Part(held, date_part))
    for part in empty:
        page = part.held.page
        same_key = sorted(k for k in groups if k[1:] == (page.key_id, page.key_check))
        target = same_key[0] if same_key else (DEFAULT_PARTITION, page.key_id, page.key_check)
        groups[target].append(part)
        groups[target].sort(key=lambda p: p.held.record.offset)
    return {k: groups[k] for k in sorted(groups, key=lambda k: (groups[k][0].held.record.offset, k))}


def _events(files: list[WrittenFile]) -> list[tuple[SegmentWritten, HeldPage]]:
    """One SegmentWritten per page, in offset order, naming its first file and its share of the bytes."""
    shares: dict[int, int] = defaultdict(int)
    first_file: dict[int, SegmentMeta] = {}
    pages: dict[int, HeldPage] = {}
    for file in files:
        total = max(file.meta.records, 1)
        given = 0
        for i, part in enumerate(file.parts):
            last = i == len(file.parts) - 1
            share = file.meta.bytes - given if last else file.meta.bytes * part.rows // total
            given += share
            offset = part.held.record.offset
            shares[offset] += share
            first_file.setdefault(offset, file.meta)
            pages[offset] = part.held
    events = []
    for offset in sorted(pages):
        held, meta = pages[offset], first_file[offset]
        page = held.page
        events.append((SegmentWritten(
            export_id=page.export_id, page_index=page.page_index, object_key=meta.key, sha256=meta.sha256,
            bytes=shares[offset], records=held.records, redactions=page.redactions,
            rejected_records=page.rejected_records, options=page.options, uncompressed_bytes=held.message_bytes,
            source_topic=held.record.topic, source_partition=held.record.partition, source_offset=offset), held))
    return events

