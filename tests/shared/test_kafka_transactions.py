"""Before anything is built on it: aiokafka transactions and zstd really work against our broker."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.settings import Settings


async def _make_topics(settings: Settings, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(settings.kafka.topic(n), 1, 1) for n in names])
    finally:
        await admin.close()


async def _read_all(settings: Settings, topic: str, isolation: str, expect_at_least: int = 0) -> list[bytes]:
    consumer = AIOKafkaConsumer(settings.kafka.topic(topic), bootstrap_servers=settings.kafka.bootstrap_servers,
                                auto_offset_reset="earliest", isolation_level=isolation, enable_auto_commit=False)
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=300)
            values += [r.value for records in batch.values() for r in records]
            if batch == {} and len(values) >= expect_at_least:
                break
    finally:
        await consumer.stop()
    return values


async def test_aborted_transaction_is_invisible_to_read_committed(settings: Settings) -> None:
    await _make_topics(settings, "out")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, transactional_id="tx-abort",
                                compression_type="zstd")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(settings.kafka.topic("out"), b"committed")
        await producer.begin_transaction()
        await producer.send(settings.kafka.topic("out"), b"aborted")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(settings.kafka.topic("out"), b"after")
    finally:
        await producer.stop()
    assert await _read_all(settings, "out", "read_committed", 2) == [b"committed", b"after"]
    assert await _read_all(settings, "out", "read_uncommitted", 3) == [b"committed", b"aborted", b"after"]


async def test_send_offsets_to_transaction_commits_consumer_progress(settings: Settings) -> None:
    await _make_topics(settings, "in", "out")
    plain = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, compression_type="zstd")
    await plain.start()
    for i in range(10):
        await plain.send_and_wait(settings.kafka.topic("in"), f"m{i}".encode() * 100)  # compressible: zstd does work
    await plain.stop()

    group = settings.kafka.group_id("txtest")
    consumer = AIOKafkaConsumer(settings.kafka.topic("in"), bootstrap_servers=settings.kafka.bootstrap_servers,
                                group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, transactional_id="tx-eos",
                                compression_type="zstd")
    await consumer.start()
    await producer.start()
    try:
        seen = 0
        while seen < 10:
            batch = await consumer.getmany(timeout_ms=1000, max_records=4)
            for tp, records in batch.items():
                async with producer.transaction():
                    for r in records:
                        await producer.send(settings.kafka.topic("out"), r.value.upper())
                    await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, group)
                seen += len(records)
        # Commit markers reach __consumer_offsets just after EndTxn returns (aiokafka's OffsetFetch does
        # not ask for stable offsets), so allow the broker a moment.
        tp = TopicPartition(settings.kafka.topic("in"), 0)
        for _ in range(50):
            committed = await consumer.committed(tp)
            if committed == 10:
                break
            await asyncio.sleep(0.1)
    finally:
        await producer.stop()
        await consumer.stop()
    assert committed == 10
    out = await _read_all(settings, "out", "read_committed", 10)
    assert out == [f"M{i}".encode() * 100 for i in range(10)]


async def test_restarted_transactional_producer_aborts_the_dead_ones_open_transaction(settings: Settings) -> None:
    """What a SIGKILL leaves behind: an open transaction. A new producer with the same transactional id
    fences it, so read_committed readers see neither its records nor wait for its timeout."""
    await _make_topics(settings, "fence")
    zombie = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, transactional_id="tx-fence")
    await zombie.start()
    await zombie.begin_transaction()
    await zombie.send_and_wait(settings.kafka.topic("fence"), b"from-zombie")
    successor = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, transactional_id="tx-fence")
    await successor.start()
    async with successor.transaction():
        await successor.send(settings.kafka.topic("fence"), b"from-successor")
    await successor.stop()
    values = await asyncio.wait_for(_read_all(settings, "fence", "read_committed", 1), 15)
    assert values == [b"from-successor"]
    await zombie.stop()
