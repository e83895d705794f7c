"""aiokafka clients configured from settings."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.settings import Settings


def client_kwargs(settings: Settings) -> dict[str, Any]:
    return {"bootstrap_servers": settings.kafka_bootstrap_servers}


def transactional_producer(settings: Settings, stage: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **client_kwargs(settings),
        transactional_id=settings.transactional_id(stage),
        transaction_timeout_ms=settings.transaction_timeout_ms,
        enable_idempotence=True,
        compression_type="zstd",
        max_request_size=8 * 1024 * 1024,
        linger_ms=5,
    )


def plain_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**client_kwargs(settings), enable_idempotence=True, compression_type="zstd")


def group_consumer(settings: Settings, stage: str, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    options: dict[str, Any] = {
        "group_id": settings.group_id(stage),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_partition_fetch_bytes": 8 * 1024 * 1024,
        "fetch_max_bytes": 16 * 1024 * 1024,
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **client_kwargs(settings), **options)


def reader(settings: Settings) -> AIOKafkaConsumer:
    """A group-less read_committed consumer for reading compacted topics from the start."""
    return AIOKafkaConsumer(
        **client_kwargs(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
