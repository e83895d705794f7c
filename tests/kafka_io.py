"""Reading what the stages wrote, for assertions."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.kafka.tables import read_topic
from shared.messages import RawPage, encode, page_key
from shared.settings import Settings


async def topic_values(settings: Settings, topic: str) -> list[bytes]:
    """Every committed value of a topic (short name), all partitions, as of now."""
    return [r.value async for r in read_topic(settings, settings.topic(topic)) if r.value is not None]


async def send_to_partition_0(producer: AIOKafkaProducer, topic: str, pages: Sequence[RawPage]) -> list[bytes]:
    """Start `producer`, send each page to partition 0 of `topic` (full name) under its page key, stop it;
    returns the values sent."""
    await producer.start()
    try:
        values = [encode(page) for page in pages]
        for page, value in zip(pages, values, strict=True):
            await producer.send_and_wait(topic, value, key=page_key(page.export_id, page.page_index), partition=0)
    finally:
        await producer.stop()
    return values
