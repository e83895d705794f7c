"""The sanitizer stage: `pages.verified` -> `transcripts.sanitized` (the public topic), in Kafka
transactions. Raw records never leave this process except as sanitized records."""

from __future__ import annotations

import asyncio
import logging

from shared import metrics
from shared.errors import ValidationFailed
from shared.kafka.loop import Output, PoisonError, Record, RetryableError, StageLoop
from shared.kafka.page_processor import PageProcessor
from shared.messages import SanitizedPage, VerifiedMessage, VerifiedPage, encode
from shared.settings import Settings
from shared.telemetry import tracer
from shared.topics import PAGES_VERIFIED, TRANSCRIPTS_SANITIZED
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.pool import WorkerCrashed, worker_count

log = logging.getLogger(__name__)
STAGE = "sanitizer"


class Sanitizer(PageProcessor):
    stage = STAGE
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
        except WorkerCrashed as exc:  # the page is fine; the pool was restarted: retry the batch
            raise RetryableError(str(exc)) from None
        return [Output(self.out_topic, encode(sanitized), key=record.key, partition=record.partition)]

    def sanitize(self, page: VerifiedPage) -> SanitizedPage:
        with tracer().start_as_current_span("pii redaction") as span:
            result = self.engine.sanitize_page(page.records, page.options.pii_rules, page.context)
            records, counts = result.records, result.totals
            span.set_attributes({f"pii.{c.entity_type.lower()}.{c.action}": c.count for c in counts})
            for c in counts:
                metrics.PII_ENTITIES.labels(c.entity_type, c.action).inc(c.count)
            span.set_attribute("pii.records", len(records))
        return SanitizedPage(export_id=page.export_id, page_index=page.page_index, records=records,
                             redactions=counts, key_id=self.settings.tokenization_key_id, options=page.options,
                             rejected_records=page.rejected_records, dead=page.dead,
                             record_redactions=result.per_record)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    settings.require("tokenization_key")
    workers = worker_count(settings.sanitizer_workers)
    log.info("finding PII with %d process(es)", workers)
    # Loading the model (in each worker) takes seconds: not on the event loop, which answers signals.
    engine = await asyncio.to_thread(PiiEngine.from_settings, settings, settings.tokenization_key.encode(),
                                     workers=workers)
    try:
        await StageLoop(settings, STAGE, PAGES_VERIFIED, Sanitizer(settings, engine)).run(stop)
    finally:
        engine.close()
