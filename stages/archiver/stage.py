"""The archiver stage: `transcripts.sanitized` -> archive objects + `archive.segments` events.

A segment is one sanitized page, keyed by (export, topic, partition, offset): boundaries come from data,
never the clock, so a replay after a crash rebuilds the same bytes under the same key and overwrites it.
The input offset commits (in the same transaction as the segment event) only after the dictionary copy,
the object and its metadata are durable (fsync + rename, or a completed PUT). A storage failure aborts the
batch and retries it; nothing is skipped. A key no store takes (shared/archive/storage/base.py check_key) is not a
storage failure: that page is dead-lettered with the reason, and the others go on.

With CA_ARCHIVE_ENCRYPTION=aes-256-gcm each segment is sealed under its export's data key (made by the
first archiver that needs it, see shared/archive/keystore.py); sealing is deterministic too. The metadata carries
the segment's subject index entries, which the notifier merges into the export's index.

An export in Parquet (`output_format: parquet`) is not written page by page: its pages are held in chunks
(file_windows.py: boundaries from input offsets) and each chunk is written as large files (parquet_files.py).
Offsets then commit only up to the start of the window of the oldest chunk still held, so a restart, a
rebalance or a retried batch reads that window again and cuts the same files.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from opentelemetry import trace

from shared.archive.audit import AuditLog
from shared.archive.keystore import KeyStore, open_key_store
from shared.archive.retention import expire_periodically
from shared.archive.segments import (
    SegmentEncryption,
    SegmentMeta,
    content_size,
    dictionary_id,
    dictionary_key,
    encode_segment,
    load_dictionary,
    manifest_key,
    seal_segment,
    segment_dictionary_id,
    segment_key,
    sha256_hex,
    write_meta,
)
from shared.archive.storage import FilesystemStore, InvalidObjectKey, ObjectStore, open_store
from shared.archive.subject_index import segment_entries
from shared.errors import ConfigError, PoisonError, is_retriable
from shared.kafka.loop import Output, Record, StageLoop, poison_letter
from shared.kafka.page_processor import PageProcessor
from shared.kafka.topics import ARCHIVE_SEGMENTS, PAGES_SANITIZED
from shared.messages import ExportTotal, FetchPaused, SanitizedMessage, SanitizedPage, SegmentWritten, encode
from shared.settings import Settings, env_name
from shared.telemetry.tracing import inject_headers, tracer
from stages.archiver.file_windows import Chunk, PartitionWindows
from stages.archiver.parquet_files import ChunkWriter, HeldPage, hold

STAGE = "archiver"


class Archiver(PageProcessor):
    stage = STAGE
    input_kind = SanitizedMessage

    def __init__(self, settings: Settings, store: ObjectStore, keys: KeyStore | None = None) -> None:
        self.settings = settings
        self.store = store
        self.keys = keys  # set: seal every segment
        self.out_topic = settings.kafka.topic(ARCHIVE_SEGMENTS)
        self.dictionary = load_dictionary(settings.archive.dictionary)
        self.dictionary_id = dictionary_id(self.dictionary)
        self.dictionary_stored: set[str] = set()  # exports whose dictionary copy this process has written
        self.windows: dict[TopicPartition, PartitionWindows[HeldPage]] = {}
        self.first_read: dict[TopicPartition, int] = {}  # the first offset read since the last (re)start
        self.files = ChunkWriter(store, keys, settings.archive.parquet_row_group_records)

    # --- Parquet chunks: held across batches (shared/kafka/loop.py HoldsBack) ------------------------------

    def partition_windows(self, record: Record) -> PartitionWindows[HeldPage]:
        tp = TopicPartition(record.topic, record.partition)
        if tp not in self.windows:
            archive = self.settings.archive
            self.windows[tp] = PartitionWindows(archive.parquet_window_offsets, archive.parquet_target_mb * 2**20)
        return self.windows[tp]

    def commit_offset(self, tp: TopicPartition, next_offset: int) -> int:
        windows = self.windows.get(tp)
        return next_offset if windows is None else windows.commit_offset(next_offset)

    def rewound(self, tp: TopicPartition) -> None:
        self.windows.pop(tp, None)
        self.first_read.pop(tp, None)

    def _maybe_replayed(self, record: Record) -> bool:
        """Whether the record can be one processed before a restart, rebalance or retry: while partitions hold
        chunks, the committed offset trails what was processed by up to a window and a batch."""
        tp = TopicPartition(record.topic, record.partition)
        first = self.first_read.setdefault(tp, record.offset)
        return bool(record.offset < first + 2 * self.settings.archive.parquet_window_offsets)

    async def assigned(self, consumer: Any, partitions: set[TopicPartition]) -> None:
        """Partitions (re)assigned: read each from its committed offset, the start of a window, holding nothing
        from before (aiokafka's rebalances are eager: this is the whole assignment)."""
        self.windows.clear()
        self.first_read.clear()
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is not None:
                consumer.seek(tp, committed)

    async def process(self, record: Record) -> list[Output]:
        # A record of a later window closes the chunks of the last one, whatever the record turns out to be.
        closed = await self.chunk_outputs(self.partition_windows(record).advance(record.offset))
        try:
            return [*closed, *await super().process(record)]
        except Exception as exc:
            if is_retriable(exc):
                raise
            return [*closed, poison_letter(self.settings, self.stage, record, exc)]

    async def paused_outputs(self, record: Record, paused: FetchPaused) -> list[Output]:
        # The export may resume much later or never: what is held of it is written now (compaction merges the
        # extra files when it completes). The notifier hears of the failure from the fetcher itself.
        return await self.chunk_outputs(self.partition_windows(record).finish(paused.export_id))

    async def total_outputs(self, record: Record, total: ExportTotal) -> list[Output]:
        # Every page of the export on this partition came before its total: its chunk is whole.
        closed = await self.chunk_outputs(self.partition_windows(record).finish(total.export_id))
        return [*closed, self.pass_on_total(record, total)]

    async def chunk_outputs(self, chunks: list[Chunk[HeldPage]]) -> list[Output]:
        """Write closed chunks: each page's SegmentWritten, or its dead letter and dead form."""
        outputs: list[Output] = []
        for chunk in chunks:
            result = await self.files.write(chunk)
            outputs.extend(self.stored_output(event, held) for event, held in result.events)
            for held, exc in result.dead:
                outputs.append(poison_letter(self.settings, self.stage, held.record, exc, held.page.export_id))
                outputs.append(self.page_output(held.record, self.dead_page(held.record, held.page)))
        return outputs

    def pass_on_total(self, record: Record, total: ExportTotal) -> Output:
        # archive.segments is keyed by export: the one notifier partition that counts it gets everything.
        return Output(self.out_topic, record.value, key=total.export_id.encode())

    def page_output(self, record: Record, message: SegmentWritten) -> Output:
        return Output(self.out_topic, encode(message), key=message.export_id.encode())

    def dead_page(self, record: Record, page: SanitizedPage) -> SegmentWritten:
        return SegmentWritten(export_id=page.export_id, page_index=page.page_index, object_key=None, sha256=None,
                              bytes=0, records=0, redactions=[], dead=True, options=page.options,
                              source_topic=record.topic, source_partition=record.partition,
                              source_offset=record.offset)

    def stored_output(self, event: SegmentWritten, held: HeldPage) -> Output:
        """A held page's event, in the page's own trace: it continues the archiver's span for the page, as an
        unheld page's does, and a `storage write` span there names the file its records went into."""
        page_span = trace.set_span_in_context(trace.NonRecordingSpan(held.span))
        with tracer().start_as_current_span("storage write", context=page_span, attributes={
                "storage.key": event.object_key or "", "storage.records": event.records,
                "storage.bytes": event.bytes, "storage.held_pages": True}):
            pass
        return Output(self.out_topic, encode(event), key=event.export_id.encode(), headers=inject_headers(at=page_span))

    async def handle_page(self, record: Record, page: SanitizedPage) -> list[Output]:
        if page.options.output_format == "parquet" and not page.dead:
            # Held as Arrow tables; a record with no exact Parquet form dead-letters its page here and now.
            held = await asyncio.to_thread(hold, record, page, trace.get_current_span().get_span_context())
            closed = self.partition_windows(record).add(page.export_id, record.offset, held, held.message_bytes)
            return await self.chunk_outputs(closed)
        # A StorageError, DataKeyMissing or DecryptionFailed is retriable (the archive or the deployment's keys,
        # not the page): the batch waits until it is fixed, and /healthz says so once it has waited too long.
        try:
            event = await self.archive(record, page)
        except InvalidObjectKey as exc:  # the page names no place in the archive: no retry can store it
            raise PoisonError(exc.message) from None
        return [self.page_output(record, event)]

    async def archive(self, record: Record, page: SanitizedPage) -> SegmentWritten:
        if page.dead:
            return self.dead_page(record, page)
        coordinates = {"source_topic": record.topic, "source_partition": record.partition,
                       "source_offset": record.offset}
        fmt = page.options.output_format
        key = segment_key(page.export_id, record.topic, record.partition, record.offset, fmt)
        with tracer().start_as_current_span("storage write") as span:
            frame = await asyncio.to_thread(encode_segment, page.records, fmt, self.dictionary)
            data, encryption = await self._sealed(page.export_id, key, frame)
            digest = sha256_hex(data)
            used_dictionary = segment_dictionary_id(frame)
            span.set_attributes({"storage.key": key, "storage.bytes": len(data), "storage.records": len(page.records),
                                 "storage.encrypted": encryption is not None})
            meta = SegmentMeta(key=key, sha256=digest, bytes=len(data), records=len(page.records), format=fmt,
                               dictionary_id=used_dictionary, page_index=page.page_index, key_id=page.key_id,
                               key_check=page.key_check,
                               encryption=encryption, subjects=segment_entries(page.records), **coordinates)
            # A replay can reach back past an export that completed since (and that `subject erase` may
            # have rewritten): its segments are left as they are.
            replayed = self._maybe_replayed(record) and await self.store.exists(manifest_key(page.export_id))
            span.set_attribute("storage.skipped", replayed)
            if used_dictionary and not replayed:
                await self._store_dictionary(page.export_id)
            if not replayed:
                await self.store.put(key, data)
                await write_meta(self.store, meta)
        return SegmentWritten(export_id=page.export_id, page_index=page.page_index, object_key=key, sha256=digest,
                              bytes=len(data), records=len(page.records), redactions=page.redactions,
                              rejected_records=page.rejected_records, options=page.options,
                              uncompressed_bytes=content_size(frame), **coordinates)

    async def _sealed(self, export_id: str, key: str, frame: bytes) -> tuple[bytes, SegmentEncryption | None]:
        """What to store: the frame itself, or sealed with the export's data key."""
        if self.keys is None:
            return frame, None
        data_key = await self.keys.data_key(export_id, create=True)
        assert self.keys.wrapper is not None  # data_key() needs it
        return await asyncio.to_thread(seal_segment, data_key, self.keys.wrapper.key_id, frame, key)

    async def _store_dictionary(self, export_id: str) -> None:
        """A copy of the dictionary beside the export's segments, before the first segment that needs it."""
        if export_id not in self.dictionary_stored and self.dictionary is not None:
            await self.store.put(dictionary_key(export_id, self.dictionary_id), self.dictionary)
            self.dictionary_stored.add(export_id)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    for name in ("parquet_window_offsets", "parquet_target_mb", "parquet_row_group_records"):
        if getattr(settings.archive, name) < 1:
            raise ConfigError(f"{env_name('archive.' + name)} must be at least 1")
    encrypt = settings.archive.encryption != "none"
    if encrypt:
        settings.require("archive.master_key")
    async with open_store(settings) as store, open_key_store(settings) as keys, \
            contextlib.AsyncExitStack() as tasks:
        if isinstance(store, FilesystemStore):
            await store.sweep_incoming()
        if encrypt:
            await keys.check_master_key()
        if settings.archive.expire_interval_seconds > 0:
            settings.require("audit.hmac_key")
            audit = AuditLog(Path(settings.audit.log_path), settings.audit.hmac_key.reveal().encode(), store)
            expiry = asyncio.create_task(expire_periodically(store, keys, audit,
                                                             settings.archive.expire_interval_seconds, stop))
            tasks.push_async_callback(_finish, expiry)
        archiver = Archiver(settings, store, keys if encrypt else None)
        await StageLoop(settings, STAGE, PAGES_SANITIZED, archiver, on_assign=archiver.assigned).run(stop)


async def _finish(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
