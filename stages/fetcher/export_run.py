"""One export from start (or checkpoint) to its last page, the same with Kafka (the stage) and without (the
`fetch` command): the caller's sink decides where pages and checkpoints go."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

import msgspec
from opentelemetry import trace

from shared.export_requests import request_fingerprint
from shared.messages import ExportRequest, FetchCheckpoint
from shared.telemetry.health import HEALTH
from shared.telemetry.tracing import tracer
from stages.fetcher.errors import ExportJobFailed
from stages.fetcher.pages import FetchedPage
from stages.fetcher.sources import Source

log = logging.getLogger(__name__)
HEALTH_BEAT_SECONDS = 10.0  # well within shared.telemetry.health's STALL_SECONDS


class PageSink(Protocol):
    async def job_created(self, checkpoint: FetchCheckpoint) -> None:
        """The export's server-side job exists: record it before any page, so a restart does not make another."""
        ...

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None: ...

    async def page(self, index: int, page: FetchedPage, checkpoint: FetchCheckpoint) -> None:
        """Keep page `index` and the checkpoint after it, atomically."""
        ...


class Deduplicating(Protocol):
    def duplicates(self, index: int, page: FetchedPage) -> int:
        """How many of page `index`'s records an earlier export already fetched: they stay in the body (its
        checksum still proves it) but are not the export's records. Called just before the sink gets the page."""
        ...


async def run_export(source: Source, request: ExportRequest, checkpoint: FetchCheckpoint | None, sink: PageSink,
                     stop: asyncio.Event, poll_interval: float, *, settle_seconds: float,
                     deduplicator: Deduplicating | None = None) -> FetchCheckpoint:
    """Fetch until the last page (the returned checkpoint is `done`) or until `stop` is set. A new export
    whose time window has not settled (its end `settle_seconds` in the past) waits for it first, before
    anything is asked of the source: stopped then, it returns a checkpoint at page 0 that was never recorded.
    A resumed export whose server-side job failed before any page was fetched gets one new job."""
    resumed = checkpoint is not None
    if checkpoint is None:
        if not await _settled(request, settle_seconds, stop):
            return _first_checkpoint(request, job_id="")
        checkpoint = _first_checkpoint(request, job_id=await source.prepare(request))
        await sink.job_created(checkpoint)
    try:
        ready = await _wait_until_ready(source, checkpoint, sink, stop, poll_interval)
    except ExportJobFailed as exc:
        if not resumed or checkpoint.next_page_index:
            raise
        # Resubmitted after the failure: the dead job never will be ready, and with no page fetched from it
        # nothing ties the export to it.
        log.warning("export %s: %s; no page was fetched from it, so a new job is prepared", request.export_id,
                    exc.message, extra={"export_id": request.export_id})
        checkpoint = msgspec.structs.replace(checkpoint, job_id=await source.prepare(request))
        await sink.job_created(checkpoint)
        ready = await _wait_until_ready(source, checkpoint, sink, stop, poll_interval)
    if not ready:
        return checkpoint
    pages = source.pages(request, checkpoint.job_id, checkpoint.resume_token)
    # No quota guard here: `max_storage_mb` is what the archive holds (compressed, as stored), which the
    # notifier counts. The raw bytes fetched are no bound on that (compression shrinks them 10-15x, by how
    # much depends on the records), so a guard on them would refuse exports the archive would hold.
    async with contextlib.aclosing(pages):
        while not stop.is_set():
            index = checkpoint.next_page_index
            with tracer().start_as_current_span("fetch page", kind=trace.SpanKind.PRODUCER) as span:
                page = await anext(pages)
                duplicates = deduplicator.duplicates(index, page) if deduplicator is not None else 0
                span.set_attributes({"cognigy.export_id": request.export_id, "cognigy.page_index": index,
                                     "cognigy.page_bytes": len(page.body), "cognigy.source_sha256": page.sha256,
                                     "cognigy.source": request.source, "cognigy.checksum_verified": page.verified})
                checkpoint = msgspec.structs.replace(
                    checkpoint, next_page_index=index + 1, resume_token=page.resume_token,
                    records=checkpoint.records + page.records - duplicates,
                    duplicates=checkpoint.duplicates + duplicates, bytes=checkpoint.bytes + len(page.body),
                    last_sha256=page.sha256, done=page.resume_token is None,
                    mismatched_pages=checkpoint.mismatched_pages + ([] if page.verified else [index]))
                if not page.verified:
                    log.warning("export %s page %d: %s", request.export_id, index, page.problem,
                                extra={"export_id": request.export_id, "page_index": index})
                await sink.page(index, page, checkpoint)
            if checkpoint.done:
                break
    return checkpoint


def _first_checkpoint(request: ExportRequest, job_id: str) -> FetchCheckpoint:
    return FetchCheckpoint(export_id=request.export_id, job_id=job_id, next_page_index=0, resume_token=None,
                           records=0, started_at=datetime.now(UTC), source=request.source,
                           request_sha256=request_fingerprint(request))


async def _settled(request: ExportRequest, settle_seconds: float, stop: asyncio.Event) -> bool:
    """Wait until the window's end is `settle_seconds` in the past, so records Cognigy makes visible late are
    there when it is read (a window ending in the future waits the same way); False if `stop` came first."""
    if request.window is None:
        return True
    readable_at = request.window.end + timedelta(seconds=settle_seconds)
    if readable_at > datetime.now(UTC):
        log.info("export %s: its window ends at %s; reading it from %s, once CA_COGNIGY_SETTLE_SECONDS=%g have "
                 "passed", request.export_id, request.window.end.isoformat(), readable_at.isoformat(), settle_seconds,
                 extra={"export_id": request.export_id})
    while (left := (readable_at - datetime.now(UTC)).total_seconds()) > 0:
        HEALTH.polled(HEALTH.assigned)  # waiting for a window to settle is progress: no probe may restart it
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(left, HEALTH_BEAT_SECONDS))
        if stop.is_set():
            return False
    return True


async def _wait_until_ready(source: Source, checkpoint: FetchCheckpoint, sink: PageSink, stop: asyncio.Event,
                            poll_interval: float) -> bool:
    percent = -1
    while not stop.is_set():
        progress = await source.progress(checkpoint.job_id)
        # Cognigy answered: a job of a big tenant can run for many minutes, and no probe may restart the
        # fetcher for waiting on it (the restarted one would wait on the same job again).
        HEALTH.polled(HEALTH.assigned)
        if progress.percent != percent:
            percent = progress.percent
            await sink.job_progress(checkpoint, percent)
        if progress.ready:
            return True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_interval)
    return False
