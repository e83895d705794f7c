"""The sanitizer stage: `pages.verified` -> `pages.sanitized` (its pages, for the archiver) and
`transcripts.sanitized` (the public topic: a JSON message per record, shared/public_topic.py), both in one Kafka
transaction per batch. Raw records never leave this process except as sanitized records: a dead page or a
dead-lettered record reaches the public topic as a count only (`page_withheld`).

A page that can never be sanitized (its export's rules cannot be applied, a rule's pattern ran over its
time limit, detection ran past the pool's deadline) goes to the DLQ with the reason and its export id, and
travels on as a dead page (`dead_page`, see PageProcessor), so its export completes as partial and the
pages behind it, of every export, go on. A record nested deeper than MAX_DEPTH (shared/nesting.py; JSON text
in its data fields counts) goes to the DLQ alone, and the rest of its page is sanitized."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import msgspec

from shared.archive.key_check import key_check_value
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import Output, Record, StageLoop, dead_letter
from shared.kafka.page_processor import PageProcessor
from shared.kafka.topics import PAGES_SANITIZED, PAGES_VERIFIED, TRANSCRIPTS_SANITIZED
from shared.messages import ExportTotal, SanitizedPage, VerifiedMessage, VerifiedPage
from shared.nesting import TooDeeplyNested
from shared.public_topic import (
    SEQUENCE_STRIDE,
    ExportEnd,
    PageWithheld,
    PublicMessage,
    TranscriptRecord,
    conversation_of,
    encode_public,
    public_headers,
    record_key,
    timestamp_of,
)
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
        self.out_topic = settings.kafka.topic(PAGES_SANITIZED)
        self.public_topic = settings.kafka.topic(TRANSCRIPTS_SANITIZED)

    async def handle_page(self, record: Record, message: VerifiedPage) -> list[Output]:
        """Raises (the page goes dead, see PageProcessor) ValidationFailed, PatternTimeout or DetectionTimedOut
        for a page that can never be sanitized."""
        message, positions, letters = self._without_deep_records(record, message)
        # A WorkerCrashed is retriable: the page is fine, the pool was restarted, the batch is tried again.
        sanitized = await asyncio.to_thread(self.sanitize, message)
        return [*letters, self.page_output(record, sanitized), *self.public_records(sanitized, positions),
                *self._withheld(sanitized)]

    def dead_outputs(self, record: Record, page: VerifiedPage) -> list[Output]:
        dead = self.dead_page(record, page)
        return [self.page_output(record, dead), *self._withheld(dead)]

    async def total_outputs(self, record: Record, total: ExportTotal) -> list[Output]:
        """The total for the archiver, and the public `export_end` of this partition's pages: every page of the
        export on this input partition came before the total, so its records are published."""
        end = ExportEnd(export_id=total.export_id, source_partition=record.partition,
                        source_partitions=self.settings.kafka.page_partitions, total_pages=total.total_pages,
                        total_records=total.total_records, started_at=total.started_at)
        return [self.pass_on_total(record, total), *self._to_every_partition(end)]

    def public_records(self, page: SanitizedPage, positions: list[int]) -> list[Output]:
        """One public message per record, keyed by its conversation, in the page's order."""
        at = datetime.now(UTC)
        redactions = page.record_redactions or [[] for _ in page.records]
        outputs = []
        for content, position, counts in zip(page.records, positions, redactions, strict=True):
            conversation = conversation_of(content)
            message = TranscriptRecord(export_id=page.export_id, conversation=conversation,
                                       page_index=page.page_index, record_index=position,
                                       sequence=page.page_index * SEQUENCE_STRIDE + position,
                                       timestamp=timestamp_of(content), sanitized_at=at, key_id=page.key_id,
                                       record=content, redactions=counts)
            outputs.append(self._public(message, record_key(page.export_id, page.page_index, conversation)))
        return outputs

    def _withheld(self, page: SanitizedPage) -> list[Output]:
        if not page.dead and not page.rejected_records:
            return []
        return self._to_every_partition(PageWithheld(export_id=page.export_id, page_index=page.page_index,
                                                     dead=page.dead, withheld_records=page.rejected_records))

    def _to_every_partition(self, message: PublicMessage) -> list[Output]:
        # The public topic has as many partitions as the page topics (shared/kafka/topics.py).
        return [self._public(message, message.export_id.encode(), partition)
                for partition in range(self.settings.kafka.page_partitions)]

    def _public(self, message: PublicMessage, key: bytes, partition: int | None = None) -> Output:
        return Output(self.public_topic, encode_public(message), key=key, partition=partition,
                      headers=public_headers(message))

    def _without_deep_records(self, record: Record,
                              page: VerifiedPage) -> tuple[VerifiedPage, list[int], list[Output]]:
        """The page without its records nested too deeply to walk (fields.check_nesting), each dead-lettered
        with the reason and counted as rejected, and the places of those kept; context records that deep are
        left out of the context."""
        problems = [_too_deep(content) for content in page.records]
        letters = [dead_letter(self.settings, STAGE, record, f"record {position} of verified page "
                               f"{page.page_index}: {exc.message}", "MalformedRecord", page.export_id,
                               problems=problems_of(exc), record_index=position)
                   for position, exc in enumerate(problems) if exc is not None]
        context = [content for content in page.context if _too_deep(content) is None]
        positions = [position for position, exc in enumerate(problems) if exc is None]
        if not letters and len(context) == len(page.context):
            return page, positions, []
        kept = [page.records[position] for position in positions]
        return msgspec.structs.replace(page, records=kept, context=context,
                                       rejected_records=page.rejected_records + len(letters)), positions, letters

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
