"""aiokafka clients configured from settings."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from shared.errors import ConfigError
from shared.settings import Settings

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection settings for every aiokafka client (producer, consumer, admin)."""
    protocol = settings.kafka_security_protocol.upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(f"CA_KAFKA_SECURITY_PROTOCOL={protocol!r}: use one of {', '.join(SECURITY_PROTOCOLS)}")
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers, "security_protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = settings.kafka_sasl_mechanism.upper()
        if mechanism not in SASL_MECHANISMS:
            raise ConfigError(f"CA_KAFKA_SASL_MECHANISM={mechanism!r}: use one of {', '.join(SASL_MECHANISMS)}")
        settings.require("kafka_sasl_username", "kafka_sasl_password")
        options.update(sasl_mechanism=mechanism, sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile or None, certfile=settings.kafka_ssl_certfile or None,
            keyfile=settings.kafka_ssl_keyfile or None)
    return options


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
    """A read_committed member of the stage's group, committing nothing itself (offsets go in transactions).

    Static membership, keyed by the transactional id (stable per instance: a StatefulSet pod's name): a
    restarted member takes its partitions back at once, where a dynamic one waits out its dead
    predecessor's session before the group rebalances. The cost: a member that stops for good (a scale-down)
    does not leave the group, so its partitions move only when its session times out."""
    options: dict[str, Any] = {
        "group_id": settings.group_id(stage),
        "group_instance_id": settings.transactional_id(stage),
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
