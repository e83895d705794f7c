"""The fetcher stage: for each export request, create (or resume) a Cognigy export job and publish its
pages to `pages.raw`.

Each page is published in one transaction with the checkpoint that says where to resume, so after a
crash the fetcher resumes with the source's resume token: completed pages are neither fetched nor
published again. The request's offset is committed with the final transaction (the page count), so an
unfinished export is picked up again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import msgspec
from aiokafka import AIOKafkaProducer, TopicPartition
from opentelemetry import trace

from shared.errors import ArchiverError
from shared.export_requests import validate_export_request
from shared.kafka.clients import group_consumer, transactional_producer
from shared.kafka.loop import Output, Record, dead_letter, send_transaction
from shared.kafka.tables import read_table
from shared.messages import (
    ExportRequest,
    ExportStatus,
    ExportTotal,
    FetchCheckpoint,
    RawPage,
    decode,
    encode,
    page_key,
)
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import EXPORTS, EXPORTS_STATUS, FETCH_CHECKPOINTS, PAGES_RAW
from stages.fetcher.cognigy_client import CognigyClient

log = logging.getLogger(__name__)
STAGE = "fetcher"


def status_output(settings: Settings, status: ExportStatus) -> Output:
    return Output(settings.topic(EXPORTS_STATUS), encode(status), key=f"{status.export_id}:{status.stage}".encode())


class Fetcher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = CognigyClient(settings)
        self.producer: AIOKafkaProducer = transactional_producer(settings, STAGE)
        self.checkpoints: dict[str, FetchCheckpoint] = {}
        self.group = settings.group_id(STAGE)

    async def run(self, stop: asyncio.Event) -> None:
        table = await read_table(self.settings, self.settings.topic(FETCH_CHECKPOINTS), FetchCheckpoint)
        self.checkpoints = {cp.export_id: cp for cp in table.values()}
        # One export can take far longer than aiokafka's default poll interval; the group must not
        # evict the fetcher while it pages through it.
        consumer = group_consumer(self.settings, STAGE, self.settings.topic(EXPORTS),
                                  max_poll_interval_ms=24 * 3600 * 1000, max_poll_records=1)
        await self.producer.start()
        await consumer.start()
        log.info("fetcher ready: %d checkpoints, Cognigy at %s", len(self.checkpoints), self.settings.cognigy_base_url)
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=1)
                for records in batch.values():
                    for record in records:
                        await self.handle(record, stop)
                        if stop.is_set():
                            break
        finally:
            await consumer.stop()
            await self.producer.stop()
            await self.client.close()

    def _status(self, export_id: str, state: str, **fields: object) -> Output:
        return status_output(self.settings, msgspec.convert(
            {"export_id": export_id, "stage": STAGE, "state": state, "updated_at": datetime.now(UTC), **fields},
            ExportStatus))

    def _checkpoint(self, cp: FetchCheckpoint) -> Output:
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
            outputs = [dead_letter(self.settings, STAGE, record, reason, type(exc).__name__)]
            await send_transaction(self.producer, outputs, self._done_offsets(record), self.group)
            return
        try:
            await self.export(request, record, stop)
        except ArchiverError as exc:
            log.error("export %s failed: %s", request.export_id, exc.message, extra={"export_id": request.export_id})
            await send_transaction(self.producer, [self._status(request.export_id, "failed", detail=exc.message)],
                                   self._done_offsets(record), self.group)

    async def export(self, request: ExportRequest, record: Record, stop: asyncio.Event) -> None:
        export_id = request.export_id
        cp = self.checkpoints.get(export_id)
        if cp is not None and cp.done:
            log.info("export %s already fetched; skipping the repeated request", export_id)
            await send_transaction(self.producer, [], self._done_offsets(record), self.group)
            return
        if cp is None:
            job_id = await self.client.create_job(request)
            cp = FetchCheckpoint(export_id=export_id, job_id=job_id, next_page_index=0, resume_token=None,
                                 records=0, started_at=datetime.now(UTC))
            await send_transaction(self.producer, [self._checkpoint(cp), self._status(export_id, "fetching")])
            log.info("export %s: created job %s", export_id, job_id, extra={"export_id": export_id})
        else:
            log.info("export %s: resuming job %s at page %d", export_id, cp.job_id, cp.next_page_index,
                     extra={"export_id": export_id})
        if not await self._wait_for_job(cp, record, stop):
            return
        while not stop.is_set():
            cp = await self._fetch_one_page(request, cp)
            if cp.done:
                break
        if cp.done:
            total = ExportTotal(export_id=export_id, total_pages=cp.next_page_index, total_records=cp.records,
                                started_at=cp.started_at)
            raw_topic = self.settings.topic(PAGES_RAW)
            # Every partition gets the total so each downstream replica can pass it on; the notifier counts.
            markers = [Output(raw_topic, encode(total), key=export_id.encode(), partition=p)
                       for p in range(self.settings.page_partitions)]
            await send_transaction(self.producer, [*markers, self._status(
                export_id, "fetched", pages=cp.next_page_index, records=cp.records, total_pages=cp.next_page_index)],
                self._done_offsets(record), self.group)
            log.info("export %s: fetched %d pages, %d records", export_id, cp.next_page_index, cp.records,
                     extra={"export_id": export_id})

    async def _wait_for_job(self, cp: FetchCheckpoint, record: Record, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            status = await self.client.job_status(cp.job_id)
            if status.status == "COMPLETED":
                return True
            if status.status == "FAILED":
                detail = f"Cognigy export job {cp.job_id} failed: {status.error_message or 'no reason given'}"
                await send_transaction(self.producer, [self._status(cp.export_id, "failed", detail=detail)],
                                       self._done_offsets(record), self.group)
                return False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.cognigy_poll_interval_seconds)
        return False

    async def _fetch_one_page(self, request: ExportRequest, cp: FetchCheckpoint) -> FetchCheckpoint:
        index = cp.next_page_index
        with tracer().start_as_current_span("fetch page", kind=trace.SpanKind.PRODUCER) as span:
            page = await self.client.fetch_page(cp.job_id, cp.resume_token)
            span.set_attributes({"cognigy.export_id": request.export_id, "cognigy.page_index": index,
                                 "cognigy.page_bytes": len(page.body), "cognigy.source_sha256": page.sha256})
            raw = RawPage(export_id=request.export_id, page_index=index, body=page.body, source_sha256=page.sha256,
                          fetched_at=datetime.now(UTC), options=request.options)
            records = _count_items(page.body)
            next_cp = msgspec.structs.replace(cp, next_page_index=index + 1, resume_token=page.resume_token,
                                              records=cp.records + records, done=page.resume_token is None)
            out = Output(self.settings.topic(PAGES_RAW), encode(raw), key=page_key(request.export_id, index))
            await send_transaction(self.producer, [out, self._checkpoint(next_cp)])
        return next_cp


class _Items(msgspec.Struct):
    items: list[msgspec.Raw] = []


def _count_items(body: bytes) -> int:
    """Records in a page, for progress only; a page that does not parse counts 0 and the verifier
    sends it to the DLQ with the reason."""
    try:
        return len(msgspec.json.decode(body, type=_Items).items)
    except msgspec.DecodeError:
        return 0


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await Fetcher(settings).run(stop)
