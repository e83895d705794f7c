"""The fetcher's own count of each export, from its checkpoints: `fetch.checkpoints` is written by the fetcher
alone (k8s/base/kafkausers.yaml), while `archive.segments`, where the notifier reads an export's total, has more
writers. So a total completes an export only when the fetcher's checkpoint says the same: done, with as many
pages and records. The fetcher commits that checkpoint with the export's last page, before it publishes the
total, so by the time a total has come through the pipeline its checkpoint is there to read."""

from __future__ import annotations

import logging
import time

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.errors import PoisonError, RetryableError
from shared.kafka.clients import reader
from shared.kafka.topics import FETCH_CHECKPOINTS
from shared.messages import CheckpointEntry, ExportTotal, FetchCheckpoint, decode
from shared.settings import Settings

log = logging.getLogger(__name__)
CATCH_UP_SECONDS = 30.0


class FetcherCounts:
    """The checkpoint table, read on as far as it has got whenever an export is not known done yet."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.kafka.topic(FETCH_CHECKPOINTS)
        self.consumer: AIOKafkaConsumer = reader(settings)
        self.partitions: list[TopicPartition] = []
        self.checkpoints: dict[str, FetchCheckpoint] = {}

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()  # a fresh client may not know the topic yet
        self.partitions = [TopicPartition(self.topic, p) for p in self.consumer.partitions_for_topic(self.topic) or ()]
        self.consumer.assign(self.partitions)
        if self.partitions:
            await self.consumer.seek_to_beginning(*self.partitions)

    async def stop(self) -> None:
        await self.consumer.stop()

    async def check(self, total: ExportTotal) -> None:
        """Raise PoisonError (the total is dead-lettered with the reason) unless the fetcher counted the same."""
        if disagreement(self.checkpoints.get(total.export_id), total) is not None:
            await self._catch_up()  # the fetcher's word may be newer than what was read so far
        problem = disagreement(self.checkpoints.get(total.export_id), total)
        if problem is not None:
            raise PoisonError(problem, export_id=total.export_id)

    async def _catch_up(self) -> None:
        """Read the table up to its current end (read_committed: its last stable offsets)."""
        deadline = time.monotonic() + CATCH_UP_SECONDS
        try:
            ends = await self.consumer.end_offsets(self.partitions)
            behind = [tp for tp in self.partitions if await self.consumer.position(tp) < ends[tp]]
            while behind:
                if time.monotonic() > deadline:
                    raise RetryableError(f"{self.topic} not read to its end within {CATCH_UP_SECONDS:g}s")
                batch = await self.consumer.getmany(*behind, timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        self._apply(record.key, record.value)
                behind = [tp for tp in behind if await self.consumer.position(tp) < ends[tp]]
        except KafkaError as exc:
            raise RetryableError(f"{self.topic} not readable: {type(exc).__name__}") from exc

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:
            self.checkpoints.pop(key.decode(errors="replace"), None)
            return
        try:
            entry: CheckpointEntry = decode(value, CheckpointEntry)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("%s: a record that is not a checkpoint, skipped", self.topic)
            return
        if isinstance(entry, FetchCheckpoint):  # not the ids the fetcher keeps beside them
            self.checkpoints[entry.export_id] = entry


def disagreement(cp: FetchCheckpoint | None, total: ExportTotal) -> str | None:
    """Why `total` is not the fetcher's count of its export, or None if it is."""
    claimed = f"export {total.export_id}: a total of {total.total_pages} pages and {total.total_records} records"
    if cp is None:
        return f"{claimed}, but the fetcher has no checkpoint of that export"
    if not cp.done:
        return f"{claimed}, but the fetcher has not finished it (it is at page {cp.next_page_index})"
    if (cp.next_page_index, cp.records, cp.started_at) != (total.total_pages, total.total_records, total.started_at):
        return (f"{claimed} started {total.started_at.isoformat()}, but the fetcher counted {cp.next_page_index} "
                f"pages and {cp.records} records, started {cp.started_at.isoformat()}")
    return None
