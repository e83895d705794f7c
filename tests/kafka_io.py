"""Writing pages straight to a topic partition, for tests of what a stage does with them."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.messages import RawPage, encode, page_key


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
