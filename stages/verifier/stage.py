"""The verifier stage: `pages.raw` -> `pages.verified`, in Kafka transactions.

A page whose SHA-256 differs from the source's, or whose body does not parse, goes to the DLQ and travels
on as a dead page (no records) so the export completes as partial instead of waiting forever. A single
malformed record goes to the DLQ alone; the rest of its page goes on.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import msgspec

from shared.kafka.loop import Output, Record, StageLoop, dead_letter
from shared.kafka.page_processor import PageProcessor
from shared.messages import PageMessage, RawPage, VerifiedPage, encode
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import PAGES_RAW, PAGES_VERIFIED

STAGE = "verifier"


class RecordShape(msgspec.Struct):
    """The fields every Cognigy Conversations record must have; all others pass through untouched."""

    id: str
    sessionId: str
    timestamp: str


class _Page(msgspec.Struct):
    items: list[msgspec.Raw]


_shape = msgspec.json.Decoder(RecordShape)
_page = msgspec.json.Decoder(_Page)


class Verifier(PageProcessor):
    stage = STAGE
    input_kind = PageMessage

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.out_topic = settings.topic(PAGES_VERIFIED)

    async def handle_page(self, record: Record, page: RawPage) -> list[Output]:
        return self.verify(record, page)

    def verify(self, record: Record, page: RawPage) -> list[Output]:
        outputs: list[Output] = []

        def forward(verified: VerifiedPage) -> list[Output]:
            out = Output(self.out_topic, encode(verified), key=record.key, partition=record.partition)
            return [*outputs, out]

        def dead(reason: str, error_type: str) -> list[Output]:
            outputs.append(dead_letter(self.settings, STAGE, record, reason, error_type, page.export_id))
            return forward(VerifiedPage(export_id=page.export_id, page_index=page.page_index, records=[],
                                        sha256=digest, options=page.options, dead=True))

        with tracer().start_as_current_span("checksum") as span:
            digest = hashlib.sha256(page.body).hexdigest()
            span.set_attributes({"checksum.algorithm": "sha256", "checksum.match": digest == page.source_sha256})
        if digest != page.source_sha256:
            return dead(f"checksum mismatch: source said {page.source_sha256}, body hashes to {digest}",
                        "ChecksumMismatch")
        try:
            items = _page.decode(page.body).items
        except msgspec.DecodeError as exc:
            return dead(f"page body is not an export page: {exc}", "MalformedPage")
        records: list[dict[str, Any]] = []
        for position, raw in enumerate(items):
            try:
                _shape.decode(raw)
                parsed = msgspec.json.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                reason = f"record {position} of page {page.page_index}: {exc}"
                outputs.append(dead_letter(self.settings, STAGE, record, reason, "MalformedRecord", page.export_id))
                continue
            records.append(parsed)
        verified = VerifiedPage(export_id=page.export_id, page_index=page.page_index, records=records,
                                sha256=digest, options=page.options, rejected_records=len(items) - len(records),
                                context=_context_records(page.context))
        return forward(verified)


def _context_records(context: bytes) -> list[dict[str, Any]]:
    """The previous page's records the fetcher carried over. They were judged with their own page (and
    dead-lettered there if bad), so one that does not parse is simply left out of the context."""
    if not context:
        return []
    try:
        items = _page.decode(context).items
    except msgspec.DecodeError:
        return []
    records = []
    for raw in items:
        try:
            _shape.decode(raw)
            records.append(msgspec.json.decode(raw))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return records


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await StageLoop(settings, STAGE, PAGES_RAW, Verifier(settings)).run(stop)
