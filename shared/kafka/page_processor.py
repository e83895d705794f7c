"""What the page stages (verifier, sanitizer, archiver) share: decode the input message, pass the
export's page total on unchanged, hand each page to the stage, and record that the page is done (metrics,
and a progress event in the same transaction)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from shared import metrics
from shared.kafka.loop import Output, PoisonError, Record
from shared.messages import ExportTotal, PageProgress, decode, encode
from shared.settings import Settings
from shared.topics import EXPORTS_PROGRESS


class PageProcessor:
    """Subclasses set `stage`, `input_kind` (a union of a page Struct and ExportTotal) and `out_topic`, and
    implement `handle_page`."""

    stage: str
    input_kind: Any
    out_topic: str
    settings: Settings

    async def process(self, record: Record) -> list[Output]:
        try:
            message = decode(record.value, self.input_kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PoisonError(f"not a message of {record.topic}: {exc}") from None
        if isinstance(message, ExportTotal):
            return [self.pass_on_total(record, message)]
        outputs = await self.handle_page(record, message)
        # A raw page has not been split into records yet: the verifier counts pages only.
        records = len(message.records) if hasattr(message, "records") else None
        metrics.PAGES.labels(self.stage).inc()
        metrics.RECORDS.labels(self.stage).inc(records or 0)
        progress = PageProgress(export_id=message.export_id, stage=self.stage, page_index=message.page_index,
                                records=records, dead=getattr(message, "dead", False), at=datetime.now(UTC))
        key = message.export_id.encode()
        return [*outputs, Output(self.settings.topic(EXPORTS_PROGRESS), encode(progress), key=key)]

    def pass_on_total(self, record: Record, total: ExportTotal) -> Output:
        # Same partition number: each downstream replica then sees the total on every partition it owns.
        return Output(self.out_topic, record.value, key=record.key, partition=record.partition)

    async def handle_page(self, record: Record, page: Any) -> list[Output]:
        raise NotImplementedError
