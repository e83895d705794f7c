"""The fetcher stage: for each export request, fetch its pages from the source it names and publish them
to `pages.raw`. It is the handler of a source loop (shared/kafka/source_loop.py: poll, dead letters for
malformed requests, health, shutdown); its transactions go through stages/fetcher/kafka_sink.py.

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

from shared.errors import ArchiverError
from shared.export_requests import request_fingerprint, validate_export_request
from shared.kafka.loop import MessageRefused, Output, Record, dead_letter
from shared.kafka.source_loop import SourceLoop
from shared.kafka.topics import ARCHIVE_SEGMENTS, EXPORTS, PAGES_RAW
from shared.messages import ExportRequest, ExportTotal, FetchCheckpoint, FetchFailed, FetchPaused, decode, encode
from shared.settings import Settings, redact_url
from stages.fetcher.api_client import ApiClient
from stages.fetcher.export_run import run_export
from stages.fetcher.kafka_sink import STAGE, KafkaSink
from stages.fetcher.sources import open_source

log = logging.getLogger(__name__)


class ResubmittedWithChanges(ArchiverError):
    """A request under the id of an export started with another source, selection or options."""

    code = "resubmitted_with_changes"


class Fetcher:
    """The source loop's handler of export requests: it fetches each export into `sink`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = ApiClient(settings)  # one per process: one token bucket for the tenant
        self.sink = KafkaSink(settings)
        # One export can take far longer than aiokafka's default poll interval; the group must not evict the
        # fetcher while it pages through it.
        self.loop = SourceLoop(settings, STAGE, EXPORTS, "export request", self, self.sink,
                               max_poll_interval_ms=24 * 3600 * 1000)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("fetching from Cognigy at %s", redact_url(self.settings.cognigy.base_url))
        try:
            await self.loop.run(stop)
        finally:
            await self.api.close()

    def decode(self, record: Record) -> ExportRequest:
        request: ExportRequest = decode(record.value, ExportRequest)
        validate_export_request(request, self.settings)
        return request

    def fetched_status(self, request: ExportRequest, cp: FetchCheckpoint) -> Output:
        notes = []
        if cp.mismatched_pages:
            notes.append(f"pages {cp.mismatched_pages} never matched their checksum; the verifier dead-letters them")
        if request.deduplication is not None and cp.duplicates:
            notes.append(f"{cp.duplicates} records skipped: already fetched by earlier windows of schedule "
                         f"{request.deduplication.scope}")
        return self.sink.status(request, "fetched", pages=cp.next_page_index, records=cp.records,
                                total_pages=cp.next_page_index, detail="; ".join(notes))

    async def handle(self, record: Record, request: ExportRequest, stop: asyncio.Event) -> None:
        try:
            await self.export(request, record, stop)
        except MessageRefused:
            raise  # the broker's, not the export's: the stage stops, and its restart resumes the export
        except ArchiverError as exc:
            log.error("export %s failed: %s", request.export_id, exc.message, extra={"export_id": request.export_id})
            failed = self.sink.status(request, "failed", detail=exc.message)
            paused = FetchPaused(export_id=request.export_id, attempt=f"{record.partition}:{record.offset}")
            await self.sink.finish(record, [failed, self._failure_notice(record, request, exc),
                                            *self._on_every_page_partition(request.export_id, encode(paused))])

    def _on_every_page_partition(self, export_id: str, marker: bytes) -> list[Output]:
        """A marker after the export's pages on every partition of pages.raw, for each downstream replica."""
        raw_topic = self.settings.kafka.topic(PAGES_RAW)
        return [Output(raw_topic, marker, key=export_id.encode(), partition=p)
                for p in range(self.settings.kafka.page_partitions)]

    def _failure_notice(self, record: Record, request: ExportRequest, exc: ArchiverError) -> Output:
        """For the notifier, on its own input, to announce (webhook, audit log) in its transactional loop."""
        notice = FetchFailed(export_id=request.export_id, attempt=f"{record.partition}:{record.offset}",
                             error=exc.code, reason=exc.message, failed_at=datetime.now(UTC))
        return Output(self.settings.kafka.topic(ARCHIVE_SEGMENTS), encode(notice), key=request.export_id.encode())

    async def export(self, request: ExportRequest, record: Record, stop: asyncio.Event) -> None:
        export_id = request.export_id
        cp = self.sink.checkpoints.get(export_id)
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
            await self.sink.finish(record, [letter])
            return
        if cp is not None and cp.done:
            log.info("export %s already fetched; skipping the repeated request", export_id)
            # Answered again, so whoever repeated the request (the scheduler) has an answer naming it.
            await self.sink.finish(record, [self.fetched_status(request, cp)])
            return
        if cp is not None:
            log.info("export %s: resuming %s at page %d", export_id, cp.source, cp.next_page_index,
                     extra={"export_id": export_id})
            # A resubmission after a failure: its status is no longer the failure.
            await self.sink.send([self.sink.status(request, "fetching", pages=cp.next_page_index, records=cp.records)])
        source = open_source(request.source, self.api, self.settings)
        pages = self.sink.pages(request)
        cp = await run_export(source, request, cp, pages, stop, self.settings.cognigy.poll_interval_seconds,
                              settle_seconds=self.settings.cognigy.settle_seconds, deduplicator=pages)
        if not cp.done:
            return  # stopping: the request's offset stays uncommitted, so a restart resumes the export
        total = ExportTotal(export_id=export_id, total_pages=cp.next_page_index, total_records=cp.records,
                            started_at=cp.started_at)
        # Every partition gets the total so each downstream replica can pass it on; the notifier counts.
        markers = self._on_every_page_partition(export_id, encode(total))
        await self.sink.export_done(record, request, [*markers, self.fetched_status(request, cp)])
        stats = self.api.stats
        log.info("export %s: fetched %d pages, %d records, %d bytes, %d duplicates skipped (%d requests, %d retries, "
                 "%d throttled)", export_id, cp.next_page_index, cp.records, cp.bytes, cp.duplicates, stats.requests,
                 stats.retries, stats.throttled, extra={"export_id": export_id})


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await Fetcher(settings).run(stop)
