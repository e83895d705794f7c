"""Reading a topic from its start to its current end, and a compacted topic as a table."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec
from aiokafka import TopicPartition

from shared.kafka.clients import reader
from shared.kafka.loop import Record
from shared.messages import decode
from shared.settings import Settings

log = logging.getLogger(__name__)


async def read_topic(settings: Settings, topic: str, partitions: Iterable[int] | None = None) -> AsyncIterator[Record]:
    """Every committed record of `topic` (full name), from the start to the end it had when called."""
    consumer = reader(settings)
    await consumer.start()
    try:
        if partitions is None:
            await consumer._client.force_metadata_update()  # a fresh client may not know the topic yet
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        # read_committed: end offsets are the last stable offsets, so this stops at what is committed.
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    yield record
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def topic_values(settings: Settings, topic: str) -> list[bytes]:
    """Every committed value of a topic (short name), all partitions, as of now."""
    return [r.value async for r in read_topic(settings, settings.kafka.topic(topic)) if r.value is not None]


async def read_table(settings: Settings, topic: str, kind: Any,
                     partitions: Iterable[int] | None = None) -> dict[bytes, Any]:
    """The latest value per key of a compacted topic, decoded as `kind`; tombstones delete. An entry that
    does not decode (forged, or written by a build with other rules) is logged and skipped: one bad entry
    must not keep the stage that reads the table from starting."""
    table: dict[bytes, Any] = {}
    for partition_table in (await read_tables(settings, topic, kind, partitions)).values():
        table.update(partition_table)
    return table


async def read_tables(settings: Settings, topic: str, kind: Any,
                      partitions: Iterable[int] | None = None) -> dict[int, dict[bytes, Any]]:
    """read_table, one table per partition (each of `partitions` has one, if only an empty one)."""
    chosen = None if partitions is None else sorted(partitions)
    tables: dict[int, dict[bytes, Any]] = {p: {} for p in chosen or ()}
    async for record in read_topic(settings, topic, chosen):
        table = tables.setdefault(record.partition, {})
        if record.key is None:
            continue
        if record.value is None:
            table.pop(record.key, None)
            continue
        try:
            table[record.key] = decode(record.value, kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("%s partition %d offset %d skipped: not a table entry (%s)", topic, record.partition,
                        record.offset, type(exc).__name__)
    return tables
