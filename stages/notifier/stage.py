"""The notifier stage: counts archived pages per export and, once every page is accounted for, writes the
manifest, appends to the audit log and queues the `archival.completed` webhook: exactly once per export.
It also enforces each export's storage quota, and queues `export.status` events (started, partial, failed).
A fetch the fetcher gave up on reaches it as a FetchFailed on its input, sent by the fetcher with the failed
status: announced once per failed attempt (webhook and audit entry), the export left open for a resubmission.
An export's total counts only if the fetcher's own checkpoint agrees with it (fetcher_counts.py); any other
total is dead-lettered with the reason, and the export stays open.

Its per-export progress lives in the compacted `notifier.state` topic (stages/notifier/changelog.py), written
in the same transaction as the input offsets and co-partitioned with `archive.segments`: a CoPartitionedStore
(shared/kafka/state.py) restores the state of the partitions the notifier gets on every assignment, and
reloads a partition when the loop retries an aborted batch, so in-memory state never runs ahead of what was
committed. Side effects (manifest, audit, deletions) happen before the transaction that records them and are
idempotent: a crash in between repeats them with the same result (the manifest's times come from the input
records, not the clock; the audit log skips known event ids).

Webhooks are not sent here: pending deliveries are part of the state, and the DeliveryWorker sends them in
the background and reports each attempt on `notifier.deliveries`, which this stage consumes with
`archive.segments` (co-partitioned: one export's outcomes reach the member that owns its state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
from aiokafka import TopicPartition

from shared.archive.audit import AuditLog
from shared.archive.iceberg_config import configured_table
from shared.archive.keystore import KeyStore, open_key_store
from shared.archive.manifest import ExportFailure, Manifest, ManifestSeal, manifest_record
from shared.archive.segments import failure_key, manifest_key, sha256_hex
from shared.archive.storage import ObjectStore, open_store
from shared.errors import PoisonError, QuotaExceeded, is_retriable
from shared.kafka.clients import plain_producer
from shared.kafka.dead_letters import reason_for
from shared.kafka.loop import Output, Record, StageLoop, poison_letter
from shared.kafka.state import CoPartitionedStore, Table
from shared.kafka.topics import ARCHIVE_SEGMENTS, EXPORTS_STATUS, NOTIFIER_DELIVERIES, NOTIFIER_STATE
from shared.messages import (
    ExportStatus,
    ExportTotal,
    FetchFailed,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
)
from shared.settings import Settings, redact_url
from shared.telemetry import metrics
from stages.notifier.changelog import ChangelogEntry, EndpointDisabled, NotifierState, WebhookDelivery
from stages.notifier.deliveries import DeliveryWorker, outcome_sender
from stages.notifier.fetcher_counts import FetcherCounts
from stages.notifier.manifests import write_export_manifest
from stages.notifier.messages import DeliveryOutcome
from stages.notifier.page_ranges import count_pages
from stages.notifier.progress import apply, is_complete, quota_breach
from stages.notifier.webhooks import (
    COMPLETED_EVENT,
    STATUS_EVENT,
    RetryPolicy,
    endpoint_id,
    endpoints,
    event_body,
    subscribed_events,
    webhook_id,
)

if TYPE_CHECKING:
    from shared.archive.iceberg_table import ArchiveTable

log = logging.getLogger(__name__)
STAGE = "notifier"
INPUTS = (ARCHIVE_SEGMENTS, NOTIFIER_DELIVERIES)


class Notifier:
    def __init__(self, settings: Settings, store: ObjectStore, keys: KeyStore, audit: AuditLog,
                 worker: DeliveryWorker, counts: FetcherCounts,
                 events: tuple[str, ...] = (COMPLETED_EVENT, STATUS_EVENT), table: ArchiveTable | None = None,
                 ) -> None:
        self.settings = settings
        self.table = table  # set: complete Parquet exports are committed to this Iceberg table
        self.counts = counts
        self.store = store
        self.keys = keys
        self.audit = audit
        self.worker = worker
        self.events = events
        self.urls = list(worker.endpoints)
        self.changelog = CoPartitionedStore(settings, NOTIFIER_STATE, ChangelogEntry, INPUTS)
        self.outcomes_topic = settings.kafka.topic(NOTIFIER_DELIVERIES)
        self.states: dict[str, NotifierState] = {}
        self.partition_of: dict[str, int] = {}

    # --- state restore ------------------------------------------------------------------------------------

    async def restore(self, consumer: Any, assigned: set[TopicPartition]) -> None:
        """Load the state of the exports on the assigned partitions, once the changelog has caught up with
        the committed input offsets."""
        self.states.clear()
        self.partition_of.clear()
        tables = await self.changelog.restore(consumer, assigned)
        for partition, table in tables.items():
            self._take(partition, table)
        self.worker.keep_only(set(self.states))
        log.info("restored %d exports for partitions %s", len(self.states), sorted(tables))

    def _take(self, partition: int, table: Table) -> None:
        for entry in table.values():
            if isinstance(entry, NotifierState):
                self.states[entry.export_id] = entry
                self.partition_of[entry.export_id] = partition
                self.worker.schedule(entry.export_id, entry.deliveries)
            elif isinstance(entry, EndpointDisabled):
                self.worker.disabled.add(entry.url)

    # --- processing ---------------------------------------------------------------------------------------

    async def process(self, record: Record) -> list[Output]:
        try:
            outputs = await self._process(record)
        except Exception as exc:
            if is_retriable(exc):
                raise
            # Dead-lettered here rather than by the loop, so that the changelog's watermark still moves past the
            # record: otherwise a restore would wait RESTORE_TIMEOUT for an offset no state change ever reaches.
            outputs = [poison_letter(self.settings, STAGE, record, exc)]
        return [*outputs, self.changelog.watermark(record)]

    async def _process(self, record: Record) -> list[Output]:
        outcomes = record.topic == self.outcomes_topic
        try:
            message: SegmentMessage | DeliveryOutcome = decode(record.value,
                                                               DeliveryOutcome if outcomes else SegmentMessage)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PoisonError(f"not a {'delivery outcome' if outcomes else 'segment message'}: {exc}") from None
        committed = await self.changelog.retried(record)
        if committed is not None:  # the loop is retrying an aborted batch: forget what it did
            undone = {e for e, p in self.partition_of.items() if p == record.partition}
            for export_id in undone:
                del self.states[export_id], self.partition_of[export_id]
            self.worker.forget(undone)
            self._take(record.partition, committed)
        # A StorageError in any of these is retriable: the loop aborts the batch and tries it again.
        if isinstance(message, DeliveryOutcome):
            outputs = await self._apply_outcome(record, message)
        elif isinstance(message, FetchFailed):
            outputs = await self._announce_fetch_failure(record, message)
        else:
            outputs = await self._apply_progress(record, message)
        return outputs

    def _save(self, record: Record, state: NotifierState) -> Output:
        self.states[state.export_id] = state
        self.partition_of[state.export_id] = record.partition
        self.worker.schedule(state.export_id, state.deliveries)
        return self.changelog.put(state.export_id.encode(), state, record.partition)

    async def _apply_progress(self, record: Record, message: SegmentWritten | ExportTotal) -> list[Output]:
        if isinstance(message, ExportTotal):
            await self.counts.check(message)  # a total the fetcher did not count is dead-lettered
        at = _record_time(record)
        state = self.states.get(message.export_id)
        outputs: list[Output] = []
        if state is None:
            state = NotifierState(export_id=message.export_id,
                                  deliveries=self._deliveries(message.export_id, "started", at))
        if state.failed:
            if isinstance(message, SegmentWritten) and message.object_key:
                # Archived after the export failed (another replica was still writing): deleted too.
                await self._purge(state.export_id)
            return []
        if state.notified:
            return []
        state = apply(state, message, at)
        log.debug("export %s: %d of %s pages archived, %d dead", state.export_id, count_pages(state.archived_pages),
                  state.total_pages, len(state.dead_pages), extra={"export_id": state.export_id})
        breach = quota_breach(state)
        if breach is not None:
            state, outputs = await self._fail(state, breach, at)
        elif is_complete(state):
            state, outputs = await self._finalize(state, at)
        return [*outputs, self._save(record, state)]

    async def _apply_outcome(self, record: Record, outcome: DeliveryOutcome) -> list[Output]:
        # Only on its export's partition number: an outcome anywhere else is not one the worker sent.
        owned = self.partition_of.get(outcome.export_id) == record.partition
        state = self.states.get(outcome.export_id) if owned else None
        key = (outcome.msg_id, outcome.url)
        match = [d for d in state.deliveries if (d.msg_id, d.url) == key] if state else []
        if state is None or not match or match[0].state != "pending" or match[0].attempts >= outcome.attempt:
            return []  # a repeated or stale report
        delivery = msgspec.structs.replace(match[0], attempts=outcome.attempt, state=outcome.state,
                                           next_attempt_at=outcome.next_attempt_at, last_status=outcome.status,
                                           detail=outcome.detail)
        state = msgspec.structs.replace(state, deliveries=[delivery if (d.msg_id, d.url) == key else d
                                                           for d in state.deliveries])
        outputs = [self._save(record, state)]
        if delivery.state != "pending":
            action = "webhook delivered" if delivery.state == "delivered" else "webhook abandoned"
            await self.audit.append(f"{delivery.msg_id}:{endpoint_id(delivery.url)}", action, state.export_id, {
                "event": delivery.event_type, "webhook_id": delivery.msg_id, "endpoint": redact_url(delivery.url),
                "attempts": delivery.attempts, "status": delivery.last_status, "detail": delivery.detail})
        if outcome.disable_endpoint:
            outputs.extend(await self._disable(outcome.url, _record_time(record)))
        return outputs

    async def _disable(self, url: str, at: datetime) -> list[Output]:
        self.worker.disabled.add(url)
        await self.audit.append(f"disabled:{endpoint_id(url)}", "webhook endpoint disabled", "", {
            "endpoint": redact_url(url), "reason": "it answered 410 Gone"})
        marker, key = EndpointDisabled(url=url, at=at), b"\x00disabled:" + endpoint_id(url).encode()
        return [self.changelog.put(key, marker, p) for p in range(self.settings.kafka.page_partitions)]

    def _deliveries(self, export_id: str, status: str, at: datetime, data: dict[str, Any] | None = None,
                    occasion: str = "") -> list[WebhookDelivery]:
        """One delivery per endpoint of the event: `archival.completed` for status "completed", else an
        `export.status` transition; `occasion` tells apart transitions that can happen more than once (the
        webhook id is made of the export, the event and it)."""
        event_type = COMPLETED_EVENT if status == "completed" else STATUS_EVENT
        if event_type not in self.events:
            return []
        name = event_type if status == "completed" else f"{event_type}:{status}{occasion}"
        msg_id = webhook_id(export_id, name)
        payload = data if status == "completed" else {"export_id": export_id, "state": status, **(data or {})}
        body = event_body(event_type, at, payload or {})
        return [WebhookDelivery(msg_id=msg_id, event_type=event_type, url=url, body=body, next_attempt_at=at)
                for url in self.urls]

    # --- completion and failure ---------------------------------------------------------------------------

    async def _commit_to_table(self, manifest: Manifest) -> None:
        """The complete export in the Iceberg table, before anyone is told (a replayed completion changes
        nothing there). The catalog unreachable is retried like the archive; any other refusal is logged and left
        to `archive iceberg-sync`, since the export itself is archived whatever the table says."""
        assert self.table is not None
        try:
            change = await self.table.commit_export(manifest)
        except Exception as exc:
            if is_retriable(exc):
                raise
            log.error("export %s: not committed to the Iceberg table (%s); `archive iceberg-sync` retries it",
                      manifest.export_id, reason_for(exc), extra={"export_id": manifest.export_id})
            metrics.ERRORS.labels(STAGE, type(exc).__name__).inc()
            return
        log.info("export %s: Iceberg table %s (%d files added, %d removed)", manifest.export_id, change.outcome,
                 change.added, change.removed, extra={"export_id": manifest.export_id})

    async def _finalize(self, state: NotifierState, completed_at: datetime) -> tuple[NotifierState, list[Output]]:
        export_id = state.export_id
        manifest, manifest_bytes = await write_export_manifest(
            self.store, state, completed_at, ManifestSeal(self.audit.key), self.keys,
            self.settings.archive.parquet_row_group_records)
        duration = (completed_at - state.started_at).total_seconds() if state.started_at else 0.0
        location = self.store.location(manifest_key(export_id))
        data = {
            "export_id": export_id, "partial": manifest.partial, "pages": state.total_pages,
            "records": state.records, "bytes": manifest.bytes, "uncompressed_bytes": state.uncompressed_bytes,
            "duration_seconds": round(duration, 3),
            "throughput_mb_s": round(state.uncompressed_bytes / 1e6 / duration, 3) if duration > 0 else None,
            "redactions": state.redactions, "dead_pages": state.dead_pages,
            "rejected_records": state.rejected_records, "manifest": location,
            "manifest_sha256": sha256_hex(manifest_bytes), "expires_at": _iso(manifest.expires_at),
        }
        archived = webhook_id(export_id, COMPLETED_EVENT)
        await self.audit.append(archived, "export archived", export_id, {
            "partial": manifest.partial, "records": state.records, "pages": state.total_pages, "bytes": manifest.bytes,
            **manifest_record(manifest_bytes), "redactions": state.redactions, "expires_at": data["expires_at"]})
        if self.table is not None:
            await self._commit_to_table(manifest)
        # The log's head as of this entry, in the receivers' hands: a copy of it no one here can roll back.
        data["audit_head"] = msgspec.to_builtins(self.audit.positions[archived])
        deliveries = self._deliveries(export_id, "completed", completed_at, data)
        if manifest.partial:
            deliveries += self._deliveries(export_id, "partial", completed_at, {
                "dead_pages": state.dead_pages, "rejected_records": state.rejected_records})
        log.info("export %s %s: %d records in %d pages", export_id,
                 "partially archived" if manifest.partial else "archived", state.records, state.total_pages or 0,
                 extra={"export_id": export_id})
        status = ExportStatus(export_id=export_id, stage=STAGE, state="partial" if manifest.partial else "completed",
                              pages=count_pages(state.archived_pages), records=state.records,
                              total_pages=state.total_pages, detail=location, updated_at=completed_at)
        state = msgspec.structs.replace(state, notified=True, deliveries=[*state.deliveries, *deliveries])
        return state, [self._status_output(status)]

    async def _fail(self, state: NotifierState, error: QuotaExceeded, at: datetime,
                    ) -> tuple[NotifierState, list[Output]]:
        """The export cannot be archived whole: record why, delete what was written, say so."""
        export_id = state.export_id
        failure = ExportFailure(export_id=export_id, error=error.code, message=error.message, failed_at=at)
        await self.store.put(failure_key(export_id), msgspec.json.encode(failure))
        await self._purge(export_id)
        await self.audit.append(f"failed:{export_id}", "export failed", export_id, error.to_dict())
        log.warning("export %s failed: %s", export_id, error.message, extra={"export_id": export_id})
        deliveries = self._deliveries(export_id, "failed", at, {"error": error.to_dict()})
        status = ExportStatus(export_id=export_id, stage=STAGE, state="failed", pages=count_pages(state.archived_pages),
                              records=state.records, total_pages=state.total_pages,
                              detail=msgspec.json.encode(error.to_dict()).decode(), updated_at=at)
        state = msgspec.structs.replace(state, failed=True, deliveries=[*state.deliveries, *deliveries])
        return state, [self._status_output(status)]

    async def _announce_fetch_failure(self, record: Record, failure: FetchFailed) -> list[Output]:
        """The fetcher gave up: say so (webhook, audit log). Nothing archived so far is deleted and the export
        stays open, because resubmitting it resumes the fetch where it stopped; the fetcher's own status
        already says failed, so none is written here."""
        export_id = failure.export_id
        state = self.states.get(export_id) or NotifierState(export_id=export_id)
        if state.failed or state.notified:
            return []  # it has ended already; this attempt changed nothing
        error = {"error": failure.error, "message": failure.reason}
        deliveries = self._deliveries(export_id, "failed", failure.failed_at, {"stage": "fetcher", "error": error},
                                      occasion=f":fetch:{failure.attempt}")
        if {d.msg_id for d in deliveries} & {d.msg_id for d in state.deliveries}:
            return []  # a repeated notice of an attempt already announced
        await self.audit.append(f"fetch-failed:{export_id}:{failure.attempt}", "export fetch failed", export_id,
                                {**error, "request": failure.attempt})
        log.warning("export %s: the fetcher gave up: %s", export_id, failure.reason, extra={"export_id": export_id})
        return [self._save(record, msgspec.structs.replace(state, deliveries=[*state.deliveries, *deliveries]))]

    async def _purge(self, export_id: str) -> None:
        keys = [k for k in await self.store.keys(export_id) if k != failure_key(export_id)]
        await self.keys.destroy(export_id)  # an encrypted export's data key goes with its objects
        await self.store.delete(keys)

    def _status_output(self, status: ExportStatus) -> Output:
        return Output(self.settings.kafka.topic(EXPORTS_STATUS), encode(status),
                      key=f"{status.export_id}:{STAGE}".encode())


def _record_time(record: Record) -> datetime:
    """The input record's timestamp: the same on every replay, unlike the clock."""
    return datetime.fromtimestamp(record.timestamp / 1000, UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def run(settings: Settings, stop: asyncio.Event) -> None:
    settings.require("audit.hmac_key")
    targets = endpoints(settings)
    events = subscribed_events(settings)
    producer = plain_producer(settings)
    async with (open_store(settings) as store, open_key_store(settings) as keys,
                httpx.AsyncClient(timeout=settings.webhooks.timeout_seconds, follow_redirects=False) as http):
        audit = AuditLog(Path(settings.audit.log_path), settings.audit.hmac_key.reveal().encode(), store)
        await audit.catch_up_storage()
        await producer.start()
        counts = FetcherCounts(settings)
        worker = DeliveryWorker(targets, RetryPolicy.from_settings(settings), http, outcome_sender(settings, producer))
        deliveries = asyncio.create_task(worker.run(stop))
        try:
            await counts.start()
            table = await configured_table(settings, store)
            notifier = Notifier(settings, store, keys, audit, worker, counts, events, table)
            await StageLoop(settings, STAGE, INPUTS, notifier, on_assign=notifier.restore).run(stop)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await deliveries
            await counts.stop()
            await producer.stop()
