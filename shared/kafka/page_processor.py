"""What the page stages (verifier, sanitizer, archiver) share: decode the input message, pass the
export's page total on unchanged, and hand each page to the stage."""

from __future__ import annotations

from typing import Any

import msgspec

from shared import metrics
from shared.kafka.loop import Output, PoisonError, Record
from shared.messages import ExportTotal, decode


class PageProcessor:
    """Subclasses set `stage`, `input_kind` (a union of a page Struct and ExportTotal) and `out_topic`, and
    implement `handle_page`."""

    stage: str
    input_kind: Any
    out_topic: str

    async def process(self, record: Record) -> list[Output]:
        try:
            message = decode(record.value, self.input_kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PoisonError(f"not a message of {record.topic}: {exc}") from None
        if isinstance(message, ExportTotal):
            return [self.pass_on_total(record, message)]
        outputs = await self.handle_page(record, message)
        metrics.PAGES.labels(self.stage).inc()
        metrics.RECORDS.labels(self.stage).inc(len(getattr(message, "records", ())))
        return outputs

    def pass_on_total(self, record: Record, total: ExportTotal) -> Output:
        # Same partition number: each downstream replica then sees the total on every partition it owns.
        return Output(self.out_topic, record.value, key=record.key, partition=record.partition)

    async def handle_page(self, record: Record, page: Any) -> list[Output]:
        raise NotImplementedError
