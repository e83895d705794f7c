"""Reading what the stages wrote, for assertions."""

from __future__ import annotations

from shared.kafka.tables import read_topic
from shared.settings import Settings


async def topic_values(settings: Settings, topic: str) -> list[bytes]:
    """Every committed value of a topic (short name), all partitions, as of now."""
    return [r.value async for r in read_topic(settings, settings.topic(topic)) if r.value is not None]
