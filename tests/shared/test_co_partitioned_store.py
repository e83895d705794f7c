"""A CoPartitionedStore over two input topics, on the real broker: when the loop retries an aborted batch,
the state of the partition number is reloaded before any record of it is processed again, whichever topic's
record comes first (the loop seeks every partition of the batch back, and the next poll may bring another
topic's records before the sought-back ones)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from aiokafka import TopicPartition

from shared.kafka.assignor import CoPartitionedAssignor
from shared.kafka.clients import TransactionalProducer, group_consumer, plain_producer
from shared.kafka.loop import Record, send_transaction
from shared.kafka.state import CoPartitionedStore
from shared.kafka.topics import ARCHIVE_SEGMENTS, NOTIFIER_DELIVERIES, NOTIFIER_STATE
from shared.settings import Settings

STAGE = "store-test"
INPUTS = (ARCHIVE_SEGMENTS, NOTIFIER_DELIVERIES)


class Seen(msgspec.Struct, frozen=True, tag="seen"):
    values: list[bytes]


async def poll(consumer: Any, tp: TopicPartition, count: int) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + 30
    while len(records) < count:
        assert time.monotonic() < deadline, f"only {len(records)} records from {tp}"
        records += (await consumer.getmany(tp, timeout_ms=500)).get(tp, [])
    return records


async def test_a_retry_reloads_the_state_whichever_topic_comes_back_first(topics: Settings) -> None:
    settings = topics
    segments, outcomes = (TopicPartition(settings.kafka.topic(t), 0) for t in INPUTS)
    store = CoPartitionedStore(settings, NOTIFIER_STATE, Seen, INPUTS)
    consumer = group_consumer(settings, STAGE, partition_assignment_strategy=(CoPartitionedAssignor,))
    consumer.subscribe([tp.topic for tp in (segments, outcomes)])
    transactions = TransactionalProducer(settings, STAGE)
    await consumer.start()
    await transactions.start()
    try:
        deadline = time.monotonic() + 30
        while len(consumer.assignment()) < 2 * settings.kafka.page_partitions:
            assert time.monotonic() < deadline, "no assignment"
            await asyncio.sleep(0.1)
        assert await store.restore(consumer, consumer.assignment()) == {p: {} for p in
                                                                      range(settings.kafka.page_partitions)}
        producer = plain_producer(settings)
        await producer.start()
        try:
            for tp, values in ((segments, [b"s0", b"s1"]), (outcomes, [b"o0"])):
                for value in values:
                    await producer.send_and_wait(tp.topic, value, key=b"k", partition=0)
        finally:
            await producer.stop()
        # A first batch, committed: the segment s0, its state and watermark.
        [s0, s1] = await poll(consumer, segments, 2)
        assert await store.retried(s0) is None
        await send_transaction(transactions, [store.put(b"k", Seen([b"s0"]), 0), store.watermark(s0)],
                               {segments: s0.offset + 1}, settings.kafka.group_id(STAGE))
        # The next batch processes s1 and is aborted: the loop seeks the partition back to s1.
        assert await store.retried(s1) is None
        consumer.seek(segments, s1.offset)
        # The retry's poll brings the outcome topic's record first: not processed before, yet the number's
        # state must be reloaded, or it would be applied to a state that had already taken s1.
        [o0] = await poll(consumer, outcomes, 1)
        assert await store.retried(o0) == {b"k": Seen([b"s0"])}
        [again] = await poll(consumer, segments, 1)
        assert again.offset == s1.offset and await store.retried(again) is None  # reloaded once, not twice
    finally:
        await transactions.stop()
        await consumer.stop()
