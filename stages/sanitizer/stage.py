"""The sanitizer stage: `pages.verified` -> `transcripts.sanitized` (the public topic), in Kafka
transactions. Raw records never leave this process except as sanitized records."""

from __future__ import annotations

import asyncio
import logging

from shared.errors import ValidationFailed
from shared.kafka.loop import Output, PoisonError, Record, StageLoop
from shared.kafka.page_processor import PageProcessor
from shared.messages import SanitizedPage, VerifiedMessage, VerifiedPage, encode
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import PAGES_VERIFIED, TRANSCRIPTS_SANITIZED
from stages.sanitizer.engine import PiiEngine

log = logging.getLogger(__name__)
STAGE = "sanitizer"


class Sanitizer(PageProcessor):
    input_kind = VerifiedMessage

    def __init__(self, settings: Settings, engine: PiiEngine) -> None:
        self.settings = settings
        self.engine = engine
        self.out_topic = settings.topic(TRANSCRIPTS_SANITIZED)

    async def handle_page(self, record: Record, message: VerifiedPage) -> list[Output]:
        try:
            sanitized = await asyncio.to_thread(self.sanitize, message)
        except ValidationFailed as exc:  # rules that cannot be applied: the export cannot be sanitized
            raise PoisonError(f"export {message.export_id}: {exc.details['problems']}") from None
        return [Output(self.out_topic, encode(sanitized), key=record.key, partition=record.partition)]

    def sanitize(self, page: VerifiedPage) -> SanitizedPage:
        with tracer().start_as_current_span("pii redaction") as span:
            records, counts = self.engine.sanitize_records(page.records, page.options.pii_rules)
            span.set_attributes({f"pii.{c.entity_type.lower()}.{c.action}": c.count for c in counts})
            span.set_attribute("pii.records", len(records))
        return SanitizedPage(export_id=page.export_id, page_index=page.page_index, records=records,
                             redactions=counts, key_id=self.settings.tokenization_key_id, options=page.options,
                             rejected_records=page.rejected_records, dead=page.dead)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    settings.require("tokenization_key")
    engine = PiiEngine(settings.tokenization_key.encode(), settings.tokenization_key_id, settings.spacy_model)
    await StageLoop(settings, STAGE, PAGES_VERIFIED, Sanitizer(settings, engine)).run(stop)
