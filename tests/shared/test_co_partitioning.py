"""The co-partitioning assignor on the real broker: members of one group reading two topics always hold
partition p of both together, as members join and leave, and every partition has exactly one member."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka.assignor import CoPartitionedAssignor
from shared.kafka.clients import group_consumer
from shared.kafka.loop import Output, Record, StageLoop
from shared.kafka.topics import ARCHIVE_SEGMENTS, NOTIFIER_DELIVERIES
from shared.settings import Settings

STAGE = "copartitioned-test"
TOPICS = (ARCHIVE_SEGMENTS, NOTIFIER_DELIVERIES)


@asynccontextmanager
async def member(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    # Dynamic members (no instance id), so one that stops leaves the group at once.
    consumer = group_consumer(settings, STAGE, group_instance_id=None,
                              partition_assignment_strategy=(CoPartitionedAssignor,))
    consumer.subscribe([settings.kafka.topic(t) for t in TOPICS])
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


def numbers(assignment: set[TopicPartition]) -> dict[str, set[int]]:
    by_topic: dict[str, set[int]] = {}
    for tp in assignment:
        by_topic.setdefault(tp.topic, set()).add(tp.partition)
    return by_topic


async def settled(settings: Settings, members: list[AIOKafkaConsumer], timeout: float = 60) -> list[set[int]]:
    """Poll every member until the group's assignment covers every partition of both topics once; each
    member's partition numbers."""
    everything = {TopicPartition(settings.kafka.topic(t), p)
                  for t in TOPICS for p in range(settings.kafka.page_partitions)}
    deadline = time.monotonic() + timeout
    while True:
        await asyncio.gather(*(m.getmany(timeout_ms=200) for m in members))
        held: list[set[TopicPartition]] = [m.assignment() for m in members]
        if sum(map(len, held)) == len(everything) and set().union(*held) == everything:
            break
        assert time.monotonic() < deadline, f"no settled assignment: {held}"
    for assignment in held:
        by_topic = numbers(assignment)
        assert len({frozenset(n) for n in by_topic.values()}) == 1 and len(by_topic) == len(TOPICS), by_topic
    return [{tp.partition for tp in assignment} for assignment in held]


async def test_members_hold_partition_numbers_of_both_topics_together(topics: Settings) -> None:
    partitions = set(range(topics.kafka.page_partitions))
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(member(topics))
        assert await settled(topics, [first]) == [partitions]
        second = await stack.enter_async_context(member(topics))
        shares = await settled(topics, [first, second])
        assert all(shares) and shares[0] | shares[1] == partitions
        # Three members over four numbers: round-robin over all partitions of both topics would split them.
        async with member(topics) as third:
            shares = await settled(topics, [first, second, third])
            assert all(shares) and set().union(*shares) == partitions
        # The third has left: its numbers go back, both topics' together.
        shares = await settled(topics, [first, second])
        assert all(shares) and shares[0] | shares[1] == partitions


class Idle:
    async def process(self, record: Record) -> list[Output]:
        return []


def test_a_loop_over_several_topics_assigns_them_co_partitioned(settings: Settings) -> None:
    assert StageLoop(settings, STAGE, TOPICS, Idle()).consumer_options["partition_assignment_strategy"] == (
        CoPartitionedAssignor,)
    # One topic keeps aiokafka's default, so the page stages' groups keep their protocol.
    assert "partition_assignment_strategy" not in StageLoop(settings, STAGE, ARCHIVE_SEGMENTS, Idle()).consumer_options
