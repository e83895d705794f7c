"""Where the fetcher's transactions go: its producer, the checkpoints and the de-duplicator's ids, restored
from `fetch.checkpoints` when it starts and kept in step with every transaction that writes them.

Each page goes in one transaction with the checkpoint after it and the ids to remember of it
(`ExportPages`); an export's last transaction carries the request's offset and forgets the ids no later
window of its schedule reads back to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from shared.errors import MessageTooLarge
from shared.kafka.loop import MessageRefused, Output, Record, check_sizes
from shared.kafka.source_loop import RequestTransactions
from shared.kafka.tables import read_table
from shared.kafka.topics import EXPORTS_STATUS, FETCH_CHECKPOINTS, PAGES_RAW
from shared.messages import (
    CheckpointEntry,
    ExportRequest,
    ExportStatus,
    FetchCheckpoint,
    FetchedIds,
    RawPage,
    encode,
    page_key,
)
from shared.settings import Settings
from shared.telemetry import metrics
from shared.telemetry.health import HEALTH
from stages.fetcher.deduplication import NO_IDS, Deduplicator, PageIds, ids_key
from stages.fetcher.pages import FetchedPage, carried_context

log = logging.getLogger(__name__)
STAGE = "fetcher"


class KafkaSink(RequestTransactions):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, STAGE)
        self.checkpoints: dict[str, FetchCheckpoint] = {}
        self.deduplicator = Deduplicator({})

    async def start(self) -> None:
        await super().start()
        table = await read_table(self.settings, self.settings.kafka.topic(FETCH_CHECKPOINTS), CheckpointEntry)
        self.checkpoints = {cp.export_id: cp for cp in table.values() if isinstance(cp, FetchCheckpoint)}
        self.deduplicator = Deduplicator({key: entry for key, entry in table.items() if isinstance(entry, FetchedIds)})
        log.info("fetcher ready: %d checkpoints, %d pages of fetched ids", len(self.checkpoints),
                 len(self.deduplicator.entries))

    def status(self, request: ExportRequest, state: str, **fields: object) -> Output:
        """The export's status, naming the request it answers (its `requested_at`)."""
        status = msgspec.convert({"export_id": request.export_id, "stage": STAGE, "state": state,
                                  "updated_at": datetime.now(UTC), "requested_at": request.requested_at, **fields},
                                 ExportStatus)
        return Output(self.settings.kafka.topic(EXPORTS_STATUS), encode(status),
                      key=f"{status.export_id}:{STAGE}".encode())

    def checkpoint(self, cp: FetchCheckpoint) -> Output:
        self.checkpoints[cp.export_id] = cp
        return Output(self.settings.kafka.topic(FETCH_CHECKPOINTS), encode(cp), key=cp.export_id.encode())

    def pages(self, request: ExportRequest) -> ExportPages:
        return ExportPages(self, request)

    async def export_done(self, record: Record, request: ExportRequest, outputs: Sequence[Output]) -> None:
        """The export's last transaction: `outputs` and the request's offset, and the ids no later window of its
        schedule reads back to forgotten (its next window's read starts after them)."""
        expired = self.deduplicator.expired(request)
        tombstones = [Output(self.settings.kafka.topic(FETCH_CHECKPOINTS), None, key=key) for key in expired]
        await self.finish(record, [*outputs, *tombstones])
        self.deduplicator.forget(expired)


class ExportPages:
    """One export's pages and checkpoints into Kafka, one transaction per page. A page over the message limit
    goes without its body, `refused` with the reason, for the verifier to dead-letter: the export completes as
    partial, and the checkpoint moves on."""

    def __init__(self, sink: KafkaSink, request: ExportRequest) -> None:
        self.sink = sink
        self.request = request
        self.previous_body = b""  # after a restart the first page goes without context: see carried_context
        self.examined = NO_IDS  # of the page `duplicates` was last asked about, for `page`

    async def job_created(self, checkpoint: FetchCheckpoint) -> None:
        await self.sink.send([self.sink.checkpoint(checkpoint), self.sink.status(self.request, "fetching")])
        log.info("export %s: %s job %r created", checkpoint.export_id, checkpoint.source, checkpoint.job_id,
                 extra={"export_id": checkpoint.export_id})

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None:
        if checkpoint.job_id:
            log.info("export %s: Cognigy job %s at %d%%", checkpoint.export_id, checkpoint.job_id, percent,
                     extra={"export_id": checkpoint.export_id})

    def duplicates(self, index: int, page: FetchedPage) -> int:
        self.examined = self.sink.deduplicator.examine(self.request, index, page)
        return len(self.examined.duplicates)

    async def page(self, index: int, page: FetchedPage, checkpoint: FetchCheckpoint) -> None:
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
            self.sink.deduplicator.remember(remembered)
        if ids.duplicates:
            log.debug("export %s page %d: %d records were fetched by earlier windows of its schedule", raw.export_id,
                      index, len(ids.duplicates), extra={"export_id": raw.export_id, "page_index": index})
        metrics.PAGES.labels(STAGE).inc()
        metrics.RECORDS.labels(STAGE).inc(page.records - len(ids.duplicates))
        HEALTH.polled(HEALTH.assigned)  # paging through a long export is progress too

    async def _send(self, raw: RawPage, checkpoint: FetchCheckpoint, ids: PageIds) -> FetchedIds | None:
        """The page, its checkpoint and the ids to remember in one transaction; returns those ids."""
        raw_output, refused = self._raw_output(raw)
        # A page that goes without its body is not archived: a later window must not skip its records.
        remembered = None if refused else ids.fetched
        outputs = [raw_output, self.sink.checkpoint(checkpoint)]
        if remembered is not None:
            key = ids_key(remembered.export_id, remembered.page_index)
            outputs.append(Output(self.sink.settings.kafka.topic(FETCH_CHECKPOINTS), encode(remembered), key=key))
        await self.sink.send(outputs)
        return remembered

    def _raw_output(self, raw: RawPage) -> tuple[Output, bool]:
        """The page's message, and whether it goes refused, without its body (over the message limit)."""
        settings = self.sink.settings
        topic, key = settings.kafka.topic(PAGES_RAW), page_key(raw.export_id, raw.page_index)
        out = Output(topic, encode(raw), key=key)
        try:
            check_sizes(settings, [out])
        except MessageTooLarge as exc:
            reason = (f"page {raw.page_index} ({len(raw.body):,} bytes, source sha256 {raw.source_sha256}) was not "
                      f"published: {exc.message}")
            log.warning("export %s: %s", raw.export_id, reason, extra={"export_id": raw.export_id})
            refused = msgspec.structs.replace(raw, body=b"", context=b"", refused=reason)
            return Output(topic, encode(refused), key=key), True
        return out, False
