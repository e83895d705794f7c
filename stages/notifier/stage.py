"""The notifier stage: counts archived pages per export and, once every page is accounted for, writes the
manifest, sends the `archival.completed` webhook and appends to the audit log: exactly once per export.

Its per-export progress lives in the compacted `notifier.state` topic, written in the same transaction
as the input offsets and co-partitioned with `archive.segments`; on every partition assignment the
notifier restores the state of the partitions it got. Side effects (manifest, webhook, audit) happen
before the transaction that marks the export notified, so a crash in between repeats them: the manifest
is rewritten identically, the webhook carries the same `webhook-id` and the audit log skips the event id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from aiokafka import TopicPartition

from shared.archive_store import FilesystemStore
from shared.kafka.loop import Output, PoisonError, Record, StageLoop
from shared.kafka.tables import read_table
from shared.messages import (
    ChangelogWatermark,
    ExportStatus,
    ExportTotal,
    NotifierState,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
)
from shared.segments import Manifest, SegmentMeta, manifest_key, read_metas, sha256_hex, write_manifest
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import ARCHIVE_SEGMENTS, EXPORTS_STATUS, NOTIFIER_STATE
from stages.notifier.audit import AuditLog
from stages.notifier.page_ranges import add_page, count_pages, has_page
from stages.notifier.webhooks import WebhookSender, webhook_id

log = logging.getLogger(__name__)
STAGE = "notifier"
RESTORE_TIMEOUT_SECONDS = 30.0
ChangelogEntry = NotifierState | ChangelogWatermark
COMPLETED_EVENT = "archival.completed"


class Notifier:
    def __init__(self, settings: Settings, store: FilesystemStore, audit: AuditLog,
                 sender: WebhookSender | None) -> None:
        self.settings = settings
        self.store = store
        self.audit = audit
        self.sender = sender
        self.states: dict[str, NotifierState] = {}

    async def restore(self, consumer: Any, assigned: set[TopicPartition]) -> None:
        """Load the state of the exports on the assigned partitions, once the changelog has caught up
        with the committed input offsets."""
        inputs = [tp for tp in assigned if tp.topic == self.settings.topic(ARCHIVE_SEGMENTS)]
        committed = {tp.partition: await consumer.committed(tp) or 0 for tp in inputs}
        deadline = time.monotonic() + RESTORE_TIMEOUT_SECONDS
        while True:
            table = await read_table(self.settings, self.settings.topic(NOTIFIER_STATE), ChangelogEntry, committed)
            behind = {p: offset for p, offset in committed.items()
                      if _watermark(table, p) < offset}
            if not behind or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        if behind:
            log.warning("changelog behind the committed input on partitions %s; restoring what is there", behind)
        states = [s for s in table.values() if isinstance(s, NotifierState)]
        self.states.update((s.export_id, s) for s in states)
        log.info("restored %d exports for partitions %s", len(states), sorted(committed))

    async def process(self, record: Record) -> list[Output]:
        try:
            message: SegmentMessage = decode(record.value, SegmentMessage)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PoisonError(f"not a segment message: {exc}") from None
        state = self.states.get(message.export_id) or NotifierState(export_id=message.export_id)
        if state.notified:
            return []
        state = _apply(state, message)
        log.debug("export %s: %d of %s pages archived, %d dead", state.export_id, count_pages(state.archived_pages),
                  state.total_pages, len(state.dead_pages), extra={"export_id": state.export_id})
        outputs: list[Output] = []
        if _is_complete(state):
            outputs.extend(await self.finalize(state))
            state = msgspec.structs.replace(state, notified=True)
        self.states[state.export_id] = state
        changelog = self.settings.topic(NOTIFIER_STATE)
        mark = ChangelogWatermark(next_offset=record.offset + 1)
        outputs.append(Output(changelog, encode(state), key=state.export_id.encode(), partition=record.partition))
        outputs.append(Output(changelog, encode(mark), key=_watermark_key(record.partition),
                              partition=record.partition))
        return outputs

    async def finalize(self, state: NotifierState) -> list[Output]:
        export_id = state.export_id
        completed_at = datetime.now(UTC)
        manifest = await asyncio.to_thread(self.write_manifest, state, completed_at)
        duration = (completed_at - state.started_at).total_seconds() if state.started_at else 0.0
        partial = manifest.partial
        manifest_path = str(self.settings.archive_path / manifest_key(export_id))
        data = {
            "export_id": export_id, "partial": partial, "pages": state.total_pages, "records": state.records,
            "bytes": state.bytes, "duration_seconds": round(duration, 3),
            "throughput_mb_s": round(state.bytes / 1e6 / duration, 3) if duration > 0 else None,
            "redactions": state.redactions, "dead_pages": state.dead_pages,
            "rejected_records": state.rejected_records,
            "manifest": manifest_path,
        }
        msg_id = webhook_id(export_id, COMPLETED_EVENT)
        with tracer().start_as_current_span("webhook delivery") as span:
            deliveries = []
            if self.sender is not None:
                for url in self.settings.webhook_url_list:
                    deliveries.append(await self.sender.deliver(url, msg_id, COMPLETED_EVENT, data))
            span.set_attribute("webhook.delivered", sum(d.delivered for d in deliveries))
        self.audit.append(msg_id, "export archived", export_id, {
            "partial": partial, "records": state.records, "pages": state.total_pages, "bytes": state.bytes,
            "manifest_sha256": manifest_digest(self.store, export_id), "redactions": state.redactions})
        for d in deliveries:
            action = "webhook delivered" if d.delivered else "webhook abandoned"
            self.audit.append(f"{msg_id}:{d.url}", action, export_id,
                              {"url": d.url, "attempts": d.attempts, "status": d.last_status, "detail": d.detail})
        log.info("export %s %s: %d records in %d pages", export_id, "partially archived" if partial else "archived",
                 state.records, state.total_pages or 0, extra={"export_id": export_id})
        status = ExportStatus(export_id=export_id, stage=STAGE, state="partial" if partial else "completed",
                              pages=count_pages(state.archived_pages), records=state.records,
                              total_pages=state.total_pages, detail=manifest_path, updated_at=completed_at)
        return [Output(self.settings.topic(EXPORTS_STATUS), encode(status), key=f"{export_id}:{STAGE}".encode())]

    def write_manifest(self, state: NotifierState, completed_at: datetime) -> Manifest:
        by_page: dict[int, SegmentMeta] = {}
        for meta in read_metas(self.store, state.export_id):
            # A page archived twice (only possible if it was published twice upstream) keeps its first copy.
            known = by_page.get(meta.page_index)
            if has_page(state.archived_pages, meta.page_index) and (
                    known is None or meta.source_offset < known.source_offset):
                by_page[meta.page_index] = meta
        segments = [by_page[p] for p in sorted(by_page)]
        manifest = Manifest(
            export_id=state.export_id, total_pages=state.total_pages or 0,
            records=sum(s.records for s in segments), bytes=sum(s.bytes for s in segments),
            partial=bool(state.dead_pages) or state.rejected_records > 0, dead_pages=sorted(state.dead_pages),
            rejected_records=state.rejected_records, redactions=state.redactions, segments=segments,
            started_at=state.started_at, completed_at=completed_at)
        write_manifest(self.store, manifest)
        return manifest


def manifest_digest(store: FilesystemStore, export_id: str) -> str:
    return sha256_hex(store.get(manifest_key(export_id)))


def _watermark_key(partition: int) -> bytes:
    return b"\x00watermark:%d" % partition


def _watermark(table: dict[bytes, Any], partition: int) -> int:
    mark = table.get(_watermark_key(partition))
    return mark.next_offset if isinstance(mark, ChangelogWatermark) else 0


def _apply(state: NotifierState, message: SegmentWritten | ExportTotal) -> NotifierState:
    if isinstance(message, ExportTotal):
        return msgspec.structs.replace(state, total_pages=message.total_pages, total_records=message.total_records,
                                       started_at=message.started_at)
    if message.dead:
        if message.page_index in state.dead_pages:
            return state
        return msgspec.structs.replace(state, dead_pages=sorted([*state.dead_pages, message.page_index]))
    if has_page(state.archived_pages, message.page_index):
        return state
    redactions = Counter(state.redactions)
    for r in message.redactions:
        redactions[r.entity_type] += r.count
    return msgspec.structs.replace(
        state, archived_pages=add_page(state.archived_pages, message.page_index),
        records=state.records + message.records, bytes=state.bytes + message.bytes,
        rejected_records=state.rejected_records + message.rejected_records, redactions=dict(redactions),
        first_archived_at=state.first_archived_at or datetime.now(UTC))


def _is_complete(state: NotifierState) -> bool:
    if state.total_pages is None:
        return False
    return count_pages(state.archived_pages) + len(state.dead_pages) >= state.total_pages


async def run(settings: Settings, stop: asyncio.Event) -> None:
    sender = None
    if settings.webhook_url_list:
        settings.require("webhook_secret")
        sender = WebhookSender(settings.webhook_secret, settings.webhook_timeout_seconds, settings.webhook_max_attempts)
    notifier = Notifier(settings, FilesystemStore(settings.archive_path), AuditLog(Path(settings.audit_log_path)),
                        sender)
    try:
        await StageLoop(settings, STAGE, ARCHIVE_SEGMENTS, notifier, on_assign=notifier.restore).run(stop)
    finally:
        if sender is not None:
            await sender.close()
