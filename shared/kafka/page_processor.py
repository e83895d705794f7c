"""What the page stages (verifier, sanitizer, archiver) share: decode the input message, pass the
export's page total on unchanged, hand each page to the stage, and record that the page is done (metrics,
and a progress event in the same transaction).

A page the stage cannot produce (any error but a retriable one, or an output over the message limit) is
dead-lettered with its export id and sent on in the stage's dead form (`dead_page`: no records), so the
export completes as partial instead of waiting for a page that never comes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from shared.errors import PoisonError, is_retriable
from shared.kafka.loop import Output, Record, check_sizes, poison_letter, with_trace_context
from shared.kafka.topics import EXPORTS_PROGRESS
from shared.messages import ExportTotal, FetchPaused, PageProgress, decode, encode
from shared.settings import Settings
from shared.telemetry import metrics


class PageProcessor:
    """Subclasses set `stage`, `input_kind` (a union of a page Struct and ExportTotal) and `out_topic`, and
    implement `handle_page` (the page's outputs, its own message sent with `page_output`) and `dead_page`
    (the stage's message for a page it cannot produce: `dead=True`, no records)."""

    stage: str
    input_kind: Any
    out_topic: str
    settings: Settings

    async def process(self, record: Record) -> list[Output]:
        try:
            message = decode(record.value, self.input_kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PoisonError(f"not a message of {record.topic}: {exc}") from exc
        if isinstance(message, ExportTotal):
            return await self.total_outputs(record, message)
        if isinstance(message, FetchPaused):
            return await self.paused_outputs(record, message)
        outputs, dead = await self._page_outputs(record, message)
        # A raw page has not been split into records yet: the verifier counts pages only.
        records = (0 if dead else len(message.records)) if hasattr(message, "records") else None
        metrics.PAGES.labels(self.stage).inc()
        metrics.RECORDS.labels(self.stage).inc(records or 0)
        progress = PageProgress(export_id=message.export_id, stage=self.stage, page_index=message.page_index,
                                records=records, dead=dead or getattr(message, "dead", False), at=datetime.now(UTC))
        key = message.export_id.encode()
        return [*outputs, Output(self.settings.kafka.topic(EXPORTS_PROGRESS), encode(progress), key=key)]

    async def _page_outputs(self, record: Record, page: Any) -> tuple[list[Output], bool]:
        """The page's outputs, or its dead letter and dead form; and whether it went dead."""
        try:
            # Measured with the trace context they will carry (the loop's span is current here).
            outputs = [with_trace_context(out) for out in await self.handle_page(record, page)]
            check_sizes(self.settings, outputs)
            return outputs, False
        except Exception as exc:
            if is_retriable(exc):
                raise
            # The page, not the stage: never a crash loop, never an export left waiting.
            letter = poison_letter(self.settings, self.stage, record, exc, page.export_id)
            return [letter, *self.dead_outputs(record, page)], True

    def page_output(self, record: Record, message: Any) -> Output:
        """This stage's message for a page, on the input's partition number under its key."""
        return Output(self.out_topic, encode(message), key=record.key, partition=record.partition)

    async def total_outputs(self, record: Record, total: ExportTotal) -> list[Output]:
        """What the stage sends for an export's total: by default the total, passed on."""
        return [self.pass_on_total(record, total)]

    async def paused_outputs(self, record: Record, paused: FetchPaused) -> list[Output]:
        """What the stage sends when the fetcher stopped an export early: by default the marker, passed on as
        the total is (the public topic does not carry it: the export is not over)."""
        return [Output(self.out_topic, record.value, key=record.key, partition=record.partition)]

    def dead_outputs(self, record: Record, page: Any) -> list[Output]:
        """What the stage sends for a page it cannot produce (besides its dead letter): by default its dead form."""
        return [self.page_output(record, self.dead_page(record, page))]

    def pass_on_total(self, record: Record, total: ExportTotal) -> Output:
        # Same partition number: each downstream replica then sees the total on every partition it owns.
        return Output(self.out_topic, record.value, key=record.key, partition=record.partition)

    async def handle_page(self, record: Record, page: Any) -> list[Output]:
        raise NotImplementedError

    def dead_page(self, record: Record, page: Any) -> msgspec.Struct:
        raise NotImplementedError
