"""The sanitizer stage: `pages.verified` -> `transcripts.sanitized` (the public topic), in Kafka
transactions. Raw records never leave this process except as sanitized records.

A page that can never be sanitized (its export's rules cannot be applied, a rule's pattern ran over its
time limit, detection ran past the pool's deadline) goes to the DLQ with the reason and its export id, and
travels on as a dead page (`dead_page`, see PageProcessor), so its export completes as partial and the
pages behind it, of every export, go on. A record nested deeper than MAX_DEPTH (shared/nesting.py; JSON text
in its data fields counts) goes to the DLQ alone, and the rest of its page is sanitized."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from shared.archive.key_check import key_check_value
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import Output, Record, StageLoop, dead_letter
from shared.kafka.page_processor import PageProcessor
from shared.kafka.topics import PAGES_VERIFIED, TRANSCRIPTS_SANITIZED
from shared.messages import SanitizedPage, VerifiedMessage, VerifiedPage
from shared.nesting import TooDeeplyNested
from shared.settings import Settings
from shared.telemetry import metrics
from shared.telemetry.tracing import tracer
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.fields import CONTACT_ID, check_nesting
from stages.sanitizer.pool import worker_count
from stages.sanitizer.recognizers.registry import ENTITY_TYPES

log = logging.getLogger(__name__)
STAGE = "sanitizer"
# Metric labels name the built-in types; an export's own types (any name its rules give) count as one, so
# that the number of series stays bounded whatever the requests.
CUSTOM_TYPE_LABEL = "CUSTOM"
_LABELLED_TYPES = frozenset({*ENTITY_TYPES, CONTACT_ID})


class Sanitizer(PageProcessor):
    stage = STAGE
    input_kind = VerifiedMessage

    def __init__(self, settings: Settings, engine: PiiEngine) -> None:
        self.settings = settings
        self.engine = engine
        self.key_check = key_check_value(settings.pii.tokenization_key.reveal().encode())
        self.out_topic = settings.kafka.topic(TRANSCRIPTS_SANITIZED)

    async def handle_page(self, record: Record, message: VerifiedPage) -> list[Output]:
        """Raises (the page goes dead, see PageProcessor) ValidationFailed, PatternTimeout or DetectionTimedOut
        for a page that can never be sanitized."""
        message, letters = self._without_deep_records(record, message)
        # A WorkerCrashed is retriable: the page is fine, the pool was restarted, the batch is tried again.
        sanitized = await asyncio.to_thread(self.sanitize, message)
        return [*letters, self.page_output(record, sanitized)]

    def _without_deep_records(self, record: Record, page: VerifiedPage) -> tuple[VerifiedPage, list[Output]]:
        """The page without its records nested too deeply to walk (fields.check_nesting), each dead-lettered
        with the reason and counted as rejected; context records that deep are left out of the context."""
        problems = [_too_deep(content) for content in page.records]
        letters = [dead_letter(self.settings, STAGE, record, f"record {position} of verified page "
                               f"{page.page_index}: {exc.message}", "MalformedRecord", page.export_id,
                               problems=problems_of(exc), record_index=position)
                   for position, exc in enumerate(problems) if exc is not None]
        context = [content for content in page.context if _too_deep(content) is None]
        if not letters and len(context) == len(page.context):
            return page, []
        kept = [content for content, exc in zip(page.records, problems, strict=True) if exc is None]
        return msgspec.structs.replace(page, records=kept, context=context,
                                       rejected_records=page.rejected_records + len(letters)), letters

    def dead_page(self, record: Record, page: VerifiedPage) -> SanitizedPage:
        return SanitizedPage(export_id=page.export_id, page_index=page.page_index, records=[], redactions=[],
                             key_id=self.settings.pii.tokenization_key_id, options=page.options,
                             rejected_records=page.rejected_records, dead=True)

    def sanitize(self, page: VerifiedPage) -> SanitizedPage:
        with tracer().start_as_current_span("pii redaction") as span:
            result = self.engine.sanitize_page(page.records, page.options.pii_rules, page.context)
            records, counts = result.records, result.totals
            span.set_attributes({f"pii.{c.entity_type.lower()}.{c.action}": c.count for c in counts})
            for c in counts:
                label = c.entity_type if c.entity_type in _LABELLED_TYPES else CUSTOM_TYPE_LABEL
                metrics.PII_ENTITIES.labels(label, c.action).inc(c.count)
            span.set_attribute("pii.records", len(records))
        return SanitizedPage(export_id=page.export_id, page_index=page.page_index, records=records,
                             redactions=counts, key_id=self.settings.pii.tokenization_key_id, key_check=self.key_check,
                             options=page.options,
                             rejected_records=page.rejected_records, dead=page.dead,
                             record_redactions=result.per_record)


def _too_deep(record: dict[str, Any]) -> TooDeeplyNested | None:
    try:
        check_nesting(record)
    except TooDeeplyNested as exc:
        return exc
    return None


async def run(settings: Settings, stop: asyncio.Event) -> None:
    settings.require("pii.tokenization_key")
    workers = worker_count(settings.pii.workers)
    log.info("finding PII with %d process(es)", workers)
    # Loading the model (in each worker) takes seconds: not on the event loop, which answers signals.
    engine = await asyncio.to_thread(PiiEngine.from_settings, settings, settings.pii.tokenization_key.reveal().encode(),
                                     workers=workers)
    try:
        await StageLoop(settings, STAGE, PAGES_VERIFIED, Sanitizer(settings, engine)).run(stop)
    finally:
        engine.close()
