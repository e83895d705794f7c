"""Writing a closed chunk (file_windows.py) as Parquet files, and the SegmentWritten of each of its pages.

A chunk becomes one file per conversation date (the Hive partition engines prune on) and tokenization key (a
file's metadata names one), named by the input offset of its first page. A page whose records fall on two
dates is in two files; its SegmentWritten goes out once all of it is written, names the first, and carries
its share of the files' bytes (shares of a file add up to its size, so the notifier's quota counts each byte
once).

A replay writes nothing that is there: a file whose object and metadata exist is left as it is (an encrypted
file would not come out byte for byte the same: pyarrow draws its file keys at random), and an export whose
manifest exists is complete, so none of its files is touched again (`subject erase` may have replaced them).
A page whose records cannot be encoded is dead-lettered on its own; the rest of the chunk is written.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import msgspec
from opentelemetry import trace

from shared.archive.encryption import DataKey
from shared.archive.keystore import KeyStore
from shared.archive.parquet_records import DEFAULT_PARTITION, conversation_date
from shared.archive.segments import (
    PagePart,
    SegmentEncryption,
    SegmentMeta,
    encode_parquet_file,
    manifest_key,
    read_meta,
    records_key,
    sha256_hex,
    write_meta,
)
from shared.archive.storage import ObjectMissing, ObjectStore
from shared.archive.subject_index import segment_entries
from shared.errors import is_retriable
from shared.kafka.loop import Record
from shared.messages import SanitizedPage, SegmentWritten, decode
from shared.telemetry.tracing import tracer
from stages.archiver.file_windows import Chunk


@dataclass(frozen=True)
class HeldPage:
    """A page held for a file: its message, and the archiver's span for it (the page's trace shows where its
    records were stored when they are)."""

    record: Record
    span: trace.SpanContext


@dataclass(frozen=True)
class Part:
    """The records of one page that go into one file."""

    held: HeldPage
    page: SanitizedPage
    records: list[dict[str, Any]]

    @property
    def record(self) -> Record:
        return self.held.record


@dataclass(frozen=True)
class WrittenFile:
    meta: SegmentMeta
    parts: list[Part]


@dataclass(frozen=True)
class ChunkResult:
    events: list[tuple[SegmentWritten, HeldPage]]
    dead: list[tuple[Record, SanitizedPage, BaseException]]  # pages that could not be encoded


GroupKey = tuple[str, str, str]  # (conversation date, tokenization key id, key check)


class ChunkWriter:
    def __init__(self, store: ObjectStore, keys: KeyStore | None, row_group_records: int) -> None:
        self.store = store
        self.keys = keys  # set: encrypt every file
        self.row_group_records = row_group_records

    async def write(self, chunk: Chunk[HeldPage]) -> ChunkResult:
        pages = [(held, decode(held.record.value, SanitizedPage)) for _, held in chunk.pages]
        encryption = await self._encryption(chunk.export_id)
        dead: dict[int, tuple[Record, SanitizedPage, BaseException]] = {}
        while True:
            groups = _groups([(h, p) for h, p in pages if h.record.offset not in dead])
            encoded = await asyncio.gather(*(self._encode(parts, encryption) for parts in groups.values()))
            if not any(isinstance(data, Exception) for data in encoded):
                break
            for parts, data in zip(groups.values(), encoded, strict=True):
                if not isinstance(data, Exception):
                    continue
                known = len(dead)
                for part in parts:  # find the pages that will not encode: each on its own
                    outcome = await self._encode([part], encryption)
                    if isinstance(outcome, Exception):
                        dead[part.record.offset] = (part.record, part.page, outcome)
                if len(dead) == known:  # every page encodes alone, not together: none of them is kept
                    dead.update((p.record.offset, (p.record, p.page, data)) for p in parts)
        complete = await self.store.exists(manifest_key(chunk.export_id))
        files = []
        for (date, _, _), parts, data in zip(groups, groups.values(), encoded, strict=True):
            assert not isinstance(data, Exception)
            files.append(await self._store(date, parts, data, complete))
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
        records = [r for part in parts for r in part.records]
        data_key, master_key_id = encryption or (None, "")
        try:
            return await asyncio.to_thread(encode_parquet_file, records, data_key, master_key_id,
                                           self.row_group_records)
        except Exception as exc:
            if is_retriable(exc):
                raise
            return exc

    async def _store(self, date: str, parts: list[Part], encoded: tuple[bytes, SegmentEncryption | None],
                     complete: bool) -> WrittenFile:
        data, encryption = encoded
        first = parts[0]
        key = records_key(first.page.export_id, date, first.record.topic, first.record.partition, first.record.offset)
        records = [r for part in parts for r in part.records]
        meta = SegmentMeta(
            key=key, sha256=sha256_hex(data), bytes=len(data), records=len(records), format="parquet",
            page_index=first.page.page_index, source_topic=first.record.topic,
            source_partition=first.record.partition, source_offset=first.record.offset, key_id=first.page.key_id,
            key_check=first.page.key_check, encryption=encryption,
            subjects=segment_entries(records), conversation_date=date,
            pages=[PagePart(page_index=p.page.page_index, source_offset=p.record.offset, records=len(p.records))
                   for p in parts])
        if complete:
            return WrittenFile(meta, parts)
        with tracer().start_as_current_span("write parquet file") as span:
            span.set_attributes({"storage.key": key, "storage.bytes": len(data), "storage.records": len(records),
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


def _groups(pages: list[tuple[HeldPage, SanitizedPage]]) -> dict[GroupKey, list[Part]]:
    """The chunk's pages split into files, in offset order within each; a page without records goes into the
    first file of its key (or, alone, into the default partition), so every page is in some file."""
    groups: dict[GroupKey, list[Part]] = defaultdict(list)
    empty = []
    for held, page in pages:
        by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in page.records:
            by_date[conversation_date(r)].append(r)
        if not by_date:
            empty.append(Part(held, page, []))
        for date, records in by_date.items():
            groups[(date, page.key_id, page.key_check)].append(Part(held, page, records))
    for part in empty:
        same_key = sorted(k for k in groups if k[1:] == (part.page.key_id, part.page.key_check))
        target = same_key[0] if same_key else (DEFAULT_PARTITION, part.page.key_id, part.page.key_check)
        groups[target].append(part)
        groups[target].sort(key=lambda p: p.record.offset)
    return {k: groups[k] for k in sorted(groups, key=lambda k: (groups[k][0].record.offset, k))}


def _events(files: list[WrittenFile]) -> list[tuple[SegmentWritten, HeldPage]]:
    """One SegmentWritten per page, in offset order, naming its first file and its share of the bytes."""
    shares: dict[int, int] = defaultdict(int)
    first_file: dict[int, SegmentMeta] = {}
    pages: dict[int, Part] = {}
    for file in files:
        total = max(file.meta.records, 1)
        given = 0
        for i, part in enumerate(file.parts):
            last = i == len(file.parts) - 1
            share = file.meta.bytes - given if last else file.meta.bytes * len(part.records) // total
            given += share
            offset = part.record.offset
            shares[offset] += share
            first_file.setdefault(offset, file.meta)
            pages[offset] = part
    events = []
    for offset in sorted(pages):
        part, meta = pages[offset], first_file[offset]
        page = part.page
        events.append((SegmentWritten(
            export_id=page.export_id, page_index=page.page_index, object_key=meta.key, sha256=meta.sha256,
            bytes=shares[offset], records=len(page.records), redactions=page.redactions,
            rejected_records=page.rejected_records, options=page.options,
            uncompressed_bytes=len(part.record.value or b""), source_topic=part.record.topic,
            source_partition=part.record.partition, source_offset=offset), part.held))
    return events
