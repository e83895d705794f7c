"""The archiver stage: `transcripts.sanitized` -> archive objects + `archive.segments` events.

A segment is one sanitized page, keyed by (export, topic, partition, offset): boundaries come from data,
never the clock, so a replay after a crash rebuilds the same bytes under the same key and overwrites it.
The input offset commits (in the same transaction as the segment event) only after the object and its
metadata are durable. A storage failure aborts the batch and retries it; nothing is skipped.
"""

from __future__ import annotations

import asyncio

from shared.archive_store import FilesystemStore
from shared.kafka.loop import Output, Record, RetryableError, StageLoop
from shared.kafka.page_processor import PageProcessor
from shared.messages import ExportTotal, SanitizedMessage, SanitizedPage, SegmentWritten, encode
from shared.segments import SegmentMeta, encode_segment, segment_key, sha256_hex, write_meta
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import ARCHIVE_SEGMENTS, TRANSCRIPTS_SANITIZED

STAGE = "archiver"


class Archiver(PageProcessor):
    input_kind = SanitizedMessage

    def __init__(self, settings: Settings, store: FilesystemStore) -> None:
        self.settings = settings
        self.store = store
        self.out_topic = settings.topic(ARCHIVE_SEGMENTS)

    def pass_on_total(self, record: Record, total: ExportTotal) -> Output:
        # archive.segments is keyed by export: the one notifier partition that counts it gets everything.
        return Output(self.out_topic, record.value, key=total.export_id.encode())

    async def handle_page(self, record: Record, page: SanitizedPage) -> list[Output]:
        event = await asyncio.to_thread(self.archive, record, page)
        return [Output(self.out_topic, encode(event), key=page.export_id.encode())]

    def archive(self, record: Record, page: SanitizedPage) -> SegmentWritten:
        coordinates = {"source_topic": record.topic, "source_partition": record.partition,
                       "source_offset": record.offset}
        if page.dead:
            return SegmentWritten(export_id=page.export_id, page_index=page.page_index, object_key=None,
                                  sha256=None, bytes=0, records=0, redactions=[], dead=True, **coordinates)
        key = segment_key(page.export_id, record.topic, record.partition, record.offset)
        with tracer().start_as_current_span("storage write") as span:
            data = encode_segment(page.records)
            digest = sha256_hex(data)
            span.set_attributes({"storage.key": key, "storage.bytes": len(data), "storage.records": len(page.records)})
            meta = SegmentMeta(key=key, sha256=digest, bytes=len(data), records=len(page.records),
                               page_index=page.page_index, key_id=page.key_id, **coordinates)
            try:
                self.store.put(key, data)
                write_meta(self.store, meta)
            except OSError as exc:
                raise RetryableError(f"cannot write {key}: {exc.strerror}") from exc
        return SegmentWritten(export_id=page.export_id, page_index=page.page_index, object_key=key, sha256=digest,
                              bytes=len(data), records=len(page.records), redactions=page.redactions,
                              rejected_records=page.rejected_records, **coordinates)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    store = FilesystemStore(settings.archive_path)
    await StageLoop(settings, STAGE, TRANSCRIPTS_SANITIZED, Archiver(settings, store)).run(stop)
