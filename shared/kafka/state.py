"""A stage's state kept in a compacted changelog topic: a table (key -> value) per partition, written in the
stage's own transactions and read back when the stage starts or is given partitions.

A value changed while processing goes out as the Output `put` gives, in the same transaction as the input
offsets it follows from, so the changelog never says more or less than what was committed. Two ways back:

- StateStore: a stage with one writer (the scheduler) reads the whole table once its transactional producer
  has fenced a killed predecessor: what it reads then is everything that was committed.
- CoPartitionedStore: a changelog co-partitioned with the stage's input (the notifier's): on every
  assignment the stage restores the partitions it got. Each processed record also writes a
  ChangelogWatermark, the input offset the changelog partition is complete up to, and a restore reads until
  the watermark reaches the input's committed offset, because a transaction's commit markers can land just
  after the commit returns. When the loop retries an aborted batch, `retried` reads the partition back, so
  the state in memory never runs ahead of what was committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import msgspec
from aiokafka import TopicPartition

from shared.kafka.loop import Output, Record
from shared.kafka.tables import read_table, read_tables
from shared.messages import SCHEMA_VERSION, encode
from shared.settings import Settings

log = logging.getLogger(__name__)
RESTORE_TIMEOUT_SECONDS = 30.0
Table = dict[bytes, Any]


class ChangelogWatermark(msgspec.Struct, frozen=True, kw_only=True, tag="changelog_watermark"):
    """Written with every state change, in the same transaction: the input offset the changelog partition
    is complete up to. A new owner restores until it reaches the input's committed offset, because a
    transaction's commit markers can land just after the commit returns."""

    next_offset: int
    v: int = SCHEMA_VERSION


class StateStore:
    """The changelog `topic` (short name), its values decoded as `kind` (a Struct or a union of them)."""

    def __init__(self, settings: Settings, topic: str, kind: Any) -> None:
        self.settings = settings
        self.topic = settings.kafka.topic(topic)
        self.kind = kind

    async def read(self) -> Table:
        """The whole table, as read_table reads it (an entry that does not decode is skipped)."""
        return await read_table(self.settings, self.topic, self.kind)

    def put(self, key: bytes, value: msgspec.Struct, partition: int | None = None) -> Output:
        """The Output that sets `key` to `value`, for the transaction of the change."""
        return Output(self.topic, encode(value), key=key, partition=partition)


class CoPartitionedStore(StateStore):
    """A changelog whose partition p holds the state that follows from partition p of `input_topic`."""

    def __init__(self, settings: Settings, topic: str, kind: Any, input_topic: str,
                 restore_timeout_seconds: float = RESTORE_TIMEOUT_SECONDS) -> None:
        super().__init__(settings, topic, kind)
        self.input_topic = settings.kafka.topic(input_topic)
        self.restore_timeout_seconds = restore_timeout_seconds
        self.next_offset: dict[int, int] = {}  # per input partition: the offset after the last one processed
        self.consumer: Any = None

    async def restore(self, consumer: Any, assigned: set[TopicPartition]) -> dict[int, Table]:
        """The tables of the input partitions in `assigned` (the whole assignment: aiokafka's rebalances are
        eager); `consumer` is the stage's, whose committed offsets the changelog must catch up with."""
        self.consumer = consumer
        self.next_offset.clear()
        return await self._load({tp.partition for tp in assigned if tp.topic == self.input_topic})

    async def retried(self, record: Record) -> Table | None:
        """The committed table of the record's partition if the loop is retrying an aborted batch (the
        record comes before one already processed), else None. Either way the record counts as processed
        from here on."""
        table = None
        if record.offset < self.next_offset.get(record.partition, 0):
            log.info("batch retried on partition %d: reloading its state", record.partition)
            table = (await self._load({record.partition}))[record.partition]
        self.next_offset[record.partition] = record.offset + 1
        return table

    def watermark(self, record: Record) -> Output:
        """The Output saying the record's changelog partition is complete up to the record: one per record."""
        return self.put(_watermark_key(record.partition), ChangelogWatermark(next_offset=record.offset + 1),
                        record.partition)

    async def _load(self, partitions: set[int]) -> dict[int, Table]:
        committed = {p: await self.consumer.committed(TopicPartition(self.input_topic, p)) or 0 for p in partitions}
        deadline = time.monotonic() + self.restore_timeout_seconds
        while True:
            tables = await read_tables(self.settings, self.topic, self.kind | ChangelogWatermark, partitions)
            behind = {p: c for p, c in committed.items() if _watermark(tables[p], p) < c}
            if not behind or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        if behind:
            log.warning("changelog behind the committed input on partitions %s; restoring what is there", behind)
        self.next_offset.update(committed)
        return {p: {k: v for k, v in table.items() if not isinstance(v, ChangelogWatermark)}
                for p, table in tables.items()}


def _watermark_key(partition: int) -> bytes:
    return b"\x00watermark:%d" % partition


def _watermark(table: Table, partition: int) -> int:
    mark = table.get(_watermark_key(partition))
    return mark.next_offset if isinstance(mark, ChangelogWatermark) else 0
