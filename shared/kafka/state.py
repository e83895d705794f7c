"""A stage's state kept in a compacted changelog topic: a table (key -> value) per partition, written in the
stage's own transactions and read back when the stage starts or is given partitions.

A value changed while processing goes out as the Output `put` gives, in the same transaction as the input
offsets it follows from, so the changelog never says more or less than what was committed. Two ways back:

- StateStore: a stage with one writer (the scheduler) reads the whole table once its transactional producer
  has fenced a killed predecessor: what it reads then is everything that was committed.
- CoPartitionedStore: a changelog co-partitioned with the stage's inputs (the notifier's: partition p of the
  changelog follows from partition p of each input, which one member gets together, shared/kafka/assignor.py):
  on every assignment the stage restores the partitions it got. Each processed record also writes a
  ChangelogWatermark, the offset of its input topic the changelog partition is complete up to, and a restore
  reads until the watermark of every input topic reaches its committed offset, because a transaction's commit
  markers can land just after the commit returns. When the loop retries an aborted batch, `retried` reads the
  partition back, so the state in memory never runs ahead of what was committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
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
    """Written with every state change, in the same transaction: the offset of one input topic the changelog
    partition is complete up to (one key per input topic and partition). A new owner restores until each
    reaches its input's committed offset, because a transaction's commit markers can land just after the
    commit returns."""

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
    """A changelog whose partition p holds the state that follows from partition p of `input_topics` (short
    names, each with the changelog's partition count)."""

    def __init__(self, settings: Settings, topic: str, kind: Any, input_topics: Sequence[str],
                 restore_timeout_seconds: float = RESTORE_TIMEOUT_SECONDS) -> None:
        super().__init__(settings, topic, kind)
        # The first input's watermark keeps the key it had when a store had one input: a changelog written
        # then restores as it did.
        self.input_topics = {settings.kafka.topic(name): b"" if i == 0 else name.encode() + b":"
                             for i, name in enumerate(input_topics)}
        self.restore_timeout_seconds = restore_timeout_seconds
        self.next_offset: dict[TopicPartition, int] = {}  # per input partition: after the last one processed
        self.consumer: Any = None

    async def restore(self, consumer: Any, assigned: set[TopicPartition]) -> dict[int, Table]:
        """The tables of the partition numbers in `assigned` (the whole assignment: aiokafka's rebalances are
        eager); `consumer` is the stage's, whose committed offsets the changelog must catch up with."""
        self.consumer = consumer
        self.next_offset.clear()
        return await self._load({tp.partition for tp in assigned if tp.topic in self.input_topics})

    async def retried(self, record: Record) -> Table | None:
        """The committed table of the record's partition number if the loop is retrying an aborted batch,
        else None. Either way the record counts as processed from here on.

        A retry shows as a record behind one already processed on its topic, or as another input topic of
        the same number sought back behind what was processed on it (the retried batch may come back with
        that topic's records later, or in another poll): the state of the number is reloaded before any
        record of it is processed again."""
        number = record.partition
        processed = {tp: offset for tp, offset in self.next_offset.items() if tp.partition == number}
        here = TopicPartition(record.topic, number)
        behind = record.offset < processed.get(here, 0)
        for tp, offset in processed.items():
            if not behind and tp != here and tp in self.consumer.assignment():
                behind = await self.consumer.position(tp) < offset
        table = None
        if behind:
            log.info("batch retried on partition %d: reloading its state", number)
            table = (await self._load({number}))[number]
        self.next_offset[here] = record.offset + 1
        return table

    def watermark(self, record: Record) -> Output:
        """The Output saying the record's changelog partition is complete up to the record: one per record."""
        return self.put(self._watermark_key(record.topic, record.partition),
                        ChangelogWatermark(next_offset=record.offset + 1), record.partition)

    async def _load(self, numbers: set[int]) -> dict[int, Table]:
        inputs = [TopicPartition(topic, p) for p in numbers for topic in self.input_topics]
        committed = {tp: await self.consumer.committed(tp) or 0 for tp in inputs}
        deadline = time.monotonic() + self.restore_timeout_seconds
        while True:
            tables = await read_tables(self.settings, self.topic, self.kind | ChangelogWatermark, numbers)
            behind = {f"{tp.topic}[{tp.partition}]": c for tp, c in committed.items()
                      if self._watermark(tables[tp.partition], tp) < c}
            if not behind or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        if behind:
            log.warning("changelog behind the committed input on %s; restoring what is there", behind)
        self.next_offset.update(committed)
        return {p: {k: v for k, v in table.items() if not isinstance(v, ChangelogWatermark)}
                for p, table in tables.items()}

    def _watermark_key(self, topic: str, partition: int) -> bytes:
        return b"\x00watermark:%s%d" % (self.input_topics[topic], partition)

    def _watermark(self, table: Table, tp: TopicPartition) -> int:
        mark = table.get(self._watermark_key(tp.topic, tp.partition))
        return mark.next_offset if isinstance(mark, ChangelogWatermark) else 0
