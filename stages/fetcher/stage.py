"""The fetcher stage: for each export request, fetch its pages from the source it names and publish them
to `pages.raw`.

Each page is published in one transaction with the checkpoint that says where to resume (the source's
resume token, pages, records and bytes so far, the last checksum), so after a crash the fetcher resumes
there: completed pages are neither fetched nor published again. The request's offset is committed with
the final transaction (the page count), so an unfinished export is picked up again on restart; a failed
one can be resumed by submitting it again under the same export id, but only the same request (its
fingerprint is in the checkpoint): one with another source, selection or options fails with a message
to use a new export id, so an export's pages are never fetched under two sets of rules.

An export that fails is marked failed on `exports.status` and, in the same transaction, a FetchFailed goes
straight to the notifier's input (`archive.segments`, under the export's key), which announces it. Every status
names the request it answers (`requested_at`): a resumed export is `fetching` again, and a repeated request of a
fetched one is answered `fetched` again.

A scheduled window's request (`deduplication`) lists, in each page, the ids of records earlier windows of its
schedule fetched, for the verifier to drop (stages/fetcher/deduplication.py); the ids it passes on are
remembered in `fetch.checkpoints`, in the page's transaction, and forgotten in the export's last one once no
later window reads back to them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import msgspec
from aiokafka import TopicPartition

from shared import metrics
from shared.errors import ArchiverError
from shared.export_requests import request_fingerprint, validate_export_request
from shared.health import HEALTH
from shared.kafka.clients import TransactionalProducer, group_consumer
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import (
    MessageRefused,
    MessageTooLarge,
    Output,
    Record,
    check_sizes,
    dead_letter,
    send_transaction,
)
from shared.kafka.tables import read_table
from shared.messages import (
    CheckpointEntry,
    ExportRequest,
    ExportStatus,
    ExportTotal,
    FetchCheckpoint,
    FetchedIds,
    FetchFailed,
    RawPage,
    decode,
    encode,
    page_key,
)
from shared.settings import Settings, redact_url
from shared.topics import ARCHIVE_SEGMENTS, EXPORTS, EXPORTS_STATUS, FETCH_CHECKPOINTS, PAGES_RAW
from stages.fetcher.api_client import ApiClient
from stages.fetcher.deduplication import NO_IDS, Deduplicator, PageIds, ids_key
from stages.fetcher.export_run import run_export
from stages.fetcher.pages import FetchedPage, carried_context
from stages.fetcher.sources import open_source

log = logging.getLogger(__name__)
STAGE = "fetcher"


class ResubmittedWithChanges(ArchiverError):
    """A request under the id of an export started with another source, selection or options."""

    code = "resubmitted_with_changes"


def status_output(settings: Settings, status: ExportStatus) -> Output:
    return Output(settings.topic(EXPORTS_STATUS), encode(status), key=f"{status.export_id}:{status.stage}".encode())


class Fetcher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = ApiClient(settings)  # one per process: one token bucket for the tenant
        self.producer = TransactionalProducer(settings, STAGE)
        self.checkpoints: dict[str, FetchCheckpoint] = {}
        self.deduplicator = Deduplicator({})
        self.group = settings.group_id(STAGE)

    async def run(self, stop: asyncio.Event) -> None:
        # The producer first: starting it fences a killed predecessor and aborts its open transaction, so
        # the checkpoints read next are all there are.
        await self.producer.start()
        try:
            table = await read_table(self.settings, self.settings.topic(FETCH_CHECKPOINTS), CheckpointEntry)
            self.checkpoints = {cp.export_id: cp for cp in table.values() if isinstance(cp, FetchCheckpoint)}
            self.deduplicator = Deduplicator({key: entry for key, entry in table.items()
                                              if isinstance(entry, FetchedIds)})
            # One export can take far longer than aiokafka's default poll interval; the group must not
            # evict the fetcher while it pages through it.
            consumer = group_consumer(self.settings, STAGE, self.settings.topic(EXPORTS),
                                      max_poll_interval_ms=24 * 3600 * 1000, max_poll_records=1)
            await consumer.start()
            log.info("fetcher ready: %d checkpoints, %d pages of fetched ids, Cognigy at %s", len(self.checkpoints),
                     len(self.deduplicator.entries), redact_url(self.settings.cognigy_base_url))
            try:
                while not stop.is_set():
                    batch = await consumer.getmany(timeout_ms=500, max_records=1)
                    HEALTH.polled(len(consumer.assignment()))
                    for records in batch.values():
                        for record in records:
                            await self.handle(record, stop)
            finally:
                await consumer.stop()
        finally:
            await self.producer.stop()
            await self.api.close()

    def status_message(self, request: ExportRequest, state: str, **fields: object) -> Output:
        """The export's status, naming the request it answers (its `requested_at`)."""
        return status_output(self.settings, msgspec.convert(
            {"export_id": request.export_id, "stage": STAGE, "state": state, "updated_at": datetime.now(UTC),
             "requested_at": request.requested_at, **fields}, ExportStatus))

    def fetched_status(self, request: ExportRequest, cp: FetchCheckpoint) -> Output:
        notes = []
        if cp.mismatched_pages:
            notes.append(f"pages {cp.mismatched_pages} never matched their checksum; the verifier dead-letters them")
        if request.deduplication is not None and cp.duplicates:
            notes.append(f"{cp.duplicates} records skipped: already fetched by earlier windows of schedule "
                         f"{request.deduplication.scope}")
        return self.status_message(request, "fetched", pages=cp.next_page_index, records=cp.records,
                                   total_pages=cp.next_page_index, detail="; ".join(notes))

    def checkpoint_message(self, cp: FetchCheckpoint) -> Output:
        self.checkpoints[cp.export_id] = cp
        return Output(self.settings.topic(FETCH_CHECKPOINTS), encode(cp), key=cp.export_id.encode())

    def _done_offsets(self, record: Record) -> dict[TopicPartition, int]:
        return {TopicPartition(record.topic, record.partition): record.offset + 1}

    async def handle(self, record: Record, stop: asyncio.Event) -> None:
        try:
            request = decode(record.value, ExportRequest)
            validate_export_request(request, self.settings)
        except (msgspec.DecodeError, msgspec.ValidationError, ArchiverError) as exc:
            reason = exc.message if isinstance(exc, ArchiverError) else f"bad export request: {exc}"
            log.warning("export request at offset %d rejected: %s", record.offset, reason)
            outputs = [dead_letter(self.settings, STAGE, record, reason, type(exc).__name__, problems=problems_of(exc))]
            await send_transaction(self.producer, outputs, self._done_offsets(record), self.group)
            return
        try:
            await self.export(request, record, stop)
        except ArchiverError as exc:
            log.error("export %s failed: %s", request.export_id, exc.message, extra={"export_id": request.export_id})
            failed = self.status_message(request, "failed", detail=exc.message)
            await send_transaction(self.producer, [failed, self._failure_notice(record, request, exc)],
                                   self._done_offsets(record), self.group)

    def _failure_notice(self, record: Record, request: ExportRequest, exc: ArchiverError) -> Output:
        """For the notifier, on its own input, to announce (webhook, audit log) in its transactional loop."""
        notice = FetchFailed(export_id=request.export_id, attempt=f"{record.partition}:{record.offset}",
                             error=exc.code, reason=exc.message, failed_at=datetime.now(UTC))
        return Output(self.settings.topic(ARCHIVE_SEGMENTS), encode(notice), key=request.export_id.encode())

    async def export(self, request: ExportRequest, record: Record, stop: asyncio.Event) -> None:
        export_id = request.export_id
        cp = self.checkpoints.get(export_id)
        if cp is not None and cp.request_sha256 not in (None, request_fingerprint(request)):
            # Resuming would fetch the rest under other rules or another selection than the pages already
            # passed on (and the manifest names the first page's): refused, never mixed.
            refusal = (f"export {export_id} was started with another source, selection or options; submit the "
                       "changed request under a new export id")
            if not cp.done:
                raise ResubmittedWithChanges(refusal)
            # Done: its status stays what it is; the request is dead-lettered with the reason.
            log.warning("%s; the request is dead-lettered", refusal, extra={"export_id": export_id})
            letter = dead_letter(self.settings, STAGE, record, refusal, ResubmittedWithChanges.__name__, export_id)
            await send_transaction(self.producer, [letter], self._done_offsets(record), self.group)
            return
        if cp is not None and cp.done:
            log.info("export %s already fetched; skipping the repeated request", export_id)
            # Answered again, so whoever repeated the request (the scheduler) has an answer naming it.
            await send_transaction(self.producer, [self.fetched_status(request, cp)], self._done_offsets(record),
                                   self.group)
            return
        if cp is not None:
            log.info("export %s: resuming %s at page %d", export_id, cp.source, cp.next_page_index,
                     extra={"export_id": export_id})
            # A resubmission after a failure: its status is no longer the failure.
            await send_transaction(self.producer, [self.status_message(
                request, "fetching", pages=cp.next_page_index, records=cp.records)])
        source = open_source(request.source, self.api, self.settings)
        sink = _KafkaSink(self, request)
        cp = await run_export(source, request, cp, sink, stop, self.settings.cognigy_poll_interval_seconds,
                              settle_seconds=self.settings.cognigy_settle_seconds, deduplicator=sink)
        if not cp.done:
            return  # stopping: the request's offset stays uncommitted, so a restart resumes the export
        total = ExportTotal(export_id=export_id, total_pages=cp.next_page_index, total_records=cp.records,
                            started_at=cp.started_at)
        raw_topic = self.settings.topic(PAGES_RAW)
        # Every partition gets the total so each downstream replica can pass it on; the notifier counts.
        markers = [Output(raw_topic, encode(total), key=export_id.encode(), partition=p)
                   for p in range(self.settings.page_partitions)]
        # Ids no later window of the schedule reads back to: its next window's read starts after them.
        expired = self.deduplicator.expired(request)
        tombstones = [Output(self.settings.topic(FETCH_CHECKPOINTS), None, key=key) for key in expired]
        await send_transaction(self.producer, [*markers, self.fetched_status(request, cp), *tombstones],
                               self._done_offsets(record), self.group)
        self.deduplicator.forget(expired)
        stats = self.api.stats
        log.info("export %s: fetched %d pages, %d records, %d bytes, %d duplicates skipped (%d requests, %d retries, "
                 "%d throttled)", export_id, cp.next_page_index, cp.records, cp.bytes, cp.duplicates, stats.requests,
                 stats.retries, stats.throttled, extra={"export_id": export_id})


class _KafkaSink:
    """Pages and checkpoints into Kafka, one transaction per page. A page over the message limit goes
    without its body, `refused` with the reason, for the verifier to dead-letter: the export completes as
    partial, and the checkpoint moves on."""

    def __init__(self, fetcher: Fetcher, request: ExportRequest) -> None:
        self.fetcher = fetcher
        self.request = request
        self.previous_body = b""  # after a restart the first page goes without context: see carried_context
        self.examined = NO_IDS  # of the page `duplicates` was last asked about, for `page`

    async def job_created(self, checkpoint: FetchCheckpoint) -> None:
        f = self.fetcher
        fetching = f.status_message(self.request, "fetching")
        await send_transaction(f.producer, [f.checkpoint_message(checkpoint), fetching])
        log.info("export %s: %s job %r created", checkpoint.export_id, checkpoint.source, checkpoint.job_id,
                 extra={"export_id": checkpoint.export_id})

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None:
        if checkpoint.job_id:
            log.info("export %s: Cognigy job %s at %d%%", checkpoint.export_id, checkpoint.job_id, percent,
                     extra={"export_id": checkpoint.export_id})

    def duplicates(self, index: int, page: FetchedPage) -> int:
        self.examined = self.fetcher.deduplicator.examine(self.request, index, page)
        return len(self.examined.duplicates)

    async def page(self, index: int, page: FetchedPage, checkpoint: FetchCheckpoint) -> None:
        f = self.fetcher
        ids, self.examined = self.examined, NO_IDS
        raw = RawPage(export_id=self.request.export_id, page_index=index, body=page.body, source_sha256=page.sha256,
                      fetched_at=datetime.now(UTC), options=self.request.options,
                      context=carried_context(self.previous_body, page.body) if self.previous_body else b"",
                      duplicate_ids=ids.duplicates)
        self.previous_body = page.body
        try:
            remembered = await self._send(raw, checkpoint, ids)
        except MessageRefused as exc:
            if not exc.too_large:
                raise
            # pages.raw takes less than the limit says (its limit is known now): the page goes refused.
            remembered = await self._send(raw, checkpoint, ids)
        if remembered is not None:
            f.deduplicator.remember(remembered)
        if ids.duplicates:
            log.debug("export %s page %d: %d records were fetched by earlier windows of its schedule", raw.export_id,
                      index, len(ids.duplicates), extra={"export_id": raw.export_id, "page_index": index})
        metrics.PAGES.labels(STAGE).inc()
        metrics.RECORDS.labels(STAGE).inc(page.records - len(ids.duplicates))
        HEALTH.polled(HEALTH.assigned)  # paging through a long export is progress too

    async def _send(self, raw: RawPage, checkpoint: FetchCheckpoint, ids: PageIds) -> FetchedIds | None:
        """The page, its checkpoint and the ids to remember in one transaction; returns those ids."""
        f = self.fetcher
        raw_output, refused = self._raw_output(raw)
        # A page that goes without its body is not archived: a later window must not skip its records.
        remembered = None if refused else ids.fetched
        outputs = [raw_output, f.checkpoint_message(checkpoint)]
        if remembered is not None:
            key = ids_key(remembered.export_id, remembered.page_index)
            outputs.append(Output(f.settings.topic(FETCH_CHECKPOINTS), encode(remembered), key=key))
        await send_transaction(f.producer, outputs)
        return remembered

    def _raw_output(self, raw: RawPage) -> tuple[Output, bool]:
        """The page's message, and whether it goes refused, without its body (over the message limit)."""
        topic, key = self.fetcher.settings.topic(PAGES_RAW), page_key(raw.export_id, raw.page_index)
        out = Output(topic, encode(raw), key=key)
        try:
            check_sizes(self.fetcher.settings, [out])
        except MessageTooLarge as exc:
            reason = (f"page {raw.page_index} ({len(raw.body):,} bytes, source sha256 {raw.source_sha256}) was not "
                      f"published: {exc.message}")
            log.warning("export %s: %s", raw.export_id, reason, extra={"export_id": raw.export_id})
            refused = msgspec.structs.replace(raw, body=b"", context=b"", refused=reason)
            return Output(topic, encode(refused), key=key), True
        return out, False


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await Fetcher(settings).run(stop)
