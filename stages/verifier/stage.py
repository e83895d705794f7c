"""The verifier stage: `pages.raw` -> `pages.verified`, in Kafka transactions.

A page whose SHA-256 differs from the source's, whose body does not parse, that the fetcher could not
publish (over the message limit), or whose verified form would be over the limit goes to the DLQ and
travels on as a dead page (no records) so the export completes as partial instead of waiting forever. A
single malformed record (one nested deeper than MAX_DEPTH, shared/nesting.py, too) goes to the DLQ alone,
with its own bytes (not the page's); the rest of its page goes on. Past MAX_RECORD_LETTERS in one page, the
rest are named in one letter, so a page of thousands of bad records cannot flood the DLQ.

Records whose `id` the fetcher listed in the page's `duplicate_ids` (an earlier window of the same schedule
passed them on) are dropped once the body's checksum is proven: they are neither passed on nor judged again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import msgspec

from shared.errors import MessageTooLarge, PoisonError
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import Output, Record, StageLoop, dead_letter
from shared.kafka.page_processor import PageProcessor
from shared.kafka.topics import PAGES_RAW, PAGES_VERIFIED
from shared.messages import PageMessage, RawPage, VerifiedPage
from shared.nesting import TooDeeplyNested, decode_json, json_array
from shared.settings import Settings
from shared.telemetry import metrics
from shared.telemetry.tracing import tracer

log = logging.getLogger(__name__)
STAGE = "verifier"
MAX_RECORD_LETTERS = 100


class ChecksumMismatch(PoisonError):
    pass


class MalformedPage(PoisonError):
    pass


class RecordShape(msgspec.Struct):
    """The fields every Cognigy Conversations record must have; all others pass through untouched."""

    id: str
    sessionId: str
    timestamp: str


_shape = msgspec.json.Decoder(RecordShape)


class Verifier(PageProcessor):
    stage = STAGE
    input_kind = PageMessage

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.out_topic = settings.kafka.topic(PAGES_VERIFIED)

    async def handle_page(self, record: Record, page: RawPage) -> list[Output]:
        return self.verify(record, page)

    def dead_page(self, record: Record, page: RawPage) -> VerifiedPage:
        return VerifiedPage(export_id=page.export_id, page_index=page.page_index, records=[],
                            sha256=page.source_sha256, options=page.options, dead=True)

    def verify(self, record: Record, page: RawPage) -> list[Output]:
        if page.refused:
            raise MessageTooLarge(page.refused)
        with tracer().start_as_current_span("checksum") as span:
            digest = hashlib.sha256(page.body).hexdigest()
            span.set_attributes({"checksum.algorithm": "sha256", "checksum.match": digest == page.source_sha256})
        if digest != page.source_sha256:
            raise ChecksumMismatch(f"checksum mismatch: source said {page.source_sha256}, body hashes to {digest}")
        try:
            items = json_array(page.body, "items")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedPage(f"page body is not an export page: {exc}") from exc
        records: list[dict[str, Any]] = []
        rejected: list[tuple[int, Exception, bytes]] = []
        duplicates, dropped = set(page.duplicate_ids), 0
        for position, raw in enumerate(items):
            try:
                parsed = decode_json(raw)  # its depth first: nothing downstream walks a record deeper than MAX_DEPTH
                if duplicates and _record_id(parsed) in duplicates:
                    dropped += 1  # judged (and archived or dead-lettered) with the earlier window's page
                    continue
                _shape.decode(raw)
                records.append(parsed)
            except (msgspec.DecodeError, msgspec.ValidationError, TooDeeplyNested) as exc:
                rejected.append((position, exc, raw))
        if dropped:
            log.debug("export %s page %d: %d records dropped, fetched by an earlier window of the schedule",
                      page.export_id, page.page_index, dropped)
            metrics.DUPLICATES.labels(STAGE).inc(dropped)
        verified = VerifiedPage(export_id=page.export_id, page_index=page.page_index, records=records,
                                sha256=digest, options=page.options, rejected_records=len(rejected),
                                context=_context_records(page.context))
        return [*self._record_letters(record, page, rejected), self.page_output(record, verified)]

    def _record_letters(self, record: Record, page: RawPage,
                        rejected: list[tuple[int, Exception, bytes]]) -> list[Output]:
        letters = [dead_letter(self.settings, STAGE, record, f"record {position} of page {page.page_index}: {exc}",
                               "MalformedRecord", page.export_id, problems=problems_of(exc), content=bytes(raw),
                               record_index=position)
                   for position, exc, raw in rejected[:MAX_RECORD_LETTERS]]
        rest = rejected[MAX_RECORD_LETTERS:]
        if rest:
            # The page itself is the reference (its topic, partition and offset): the records are not copied.
            problems = [p for _, exc, _ in rest[:10] for p in problems_of(exc)]
            reason = (f"{len(rest)} more malformed records in page {page.page_index}, records {rest[0][0]} to "
                      f"{rest[-1][0]}: not dead-lettered one by one")
            letters.append(dead_letter(self.settings, STAGE, record, reason, "MalformedRecords", page.export_id,
                                       problems=problems))
        return letters


def _record_id(record: object) -> str | None:
    record_id = record.get("id") if isinstance(record, dict) else None
    return record_id if isinstance(record_id, str) else None


def _context_records(context: bytes) -> list[dict[str, Any]]:
    """The previous page's records the fetcher carried over. They were judged with their own page (and
    dead-lettered there if bad), so one that does not parse is simply left out of the context."""
    if not context:
        return []
    try:
        items = json_array(context, "items")
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    records = []
    for raw in items:
        try:
            parsed = decode_json(raw)
            _shape.decode(raw)
            records.append(parsed)
        except (msgspec.DecodeError, msgspec.ValidationError, TooDeeplyNested):
            continue
    return records


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await StageLoop(settings, STAGE, PAGES_RAW, Verifier(settings)).run(stop)
