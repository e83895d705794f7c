"""aiokafka clients configured from settings, and the one message size limit they all follow.

CA_KAFKA_MAX_MESSAGE_BYTES bounds every message a stage sends, measured as aiokafka measures it (key, value
and headers in a record batch of their own). Producers refuse larger ones themselves (`max_request_size`);
`topics create` gives every topic a `max.message.bytes` a little above it (the broker checks batches after
compression, which can add a little); consumers fetch at least that much per partition. The stages check
their outputs against it before sending (shared/kafka/loop.py), so an over-size message is never sent.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from shared.errors import ConfigError
from shared.settings import Settings

log = logging.getLogger(__name__)

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection settings for every aiokafka client (producer, consumer, admin)."""
    protocol = settings.kafka.security_protocol.upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(f"CA_KAFKA_SECURITY_PROTOCOL={protocol!r}: use one of {', '.join(SECURITY_PROTOCOLS)}")
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka.bootstrap_servers, "security_protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = settings.kafka.sasl_mechanism.upper()
        if mechanism not in SASL_MECHANISMS:
            raise ConfigError(f"CA_KAFKA_SASL_MECHANISM={mechanism!r}: use one of {', '.join(SASL_MECHANISMS)}")
        settings.require("kafka.sasl_username", "kafka.sasl_password")
        options.update(sasl_mechanism=mechanism, sasl_plain_username=settings.kafka.sasl_username,
                       sasl_plain_password=settings.kafka.sasl_password.reveal())
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka.ssl_cafile or None, certfile=settings.kafka.ssl_certfile or None,
            keyfile=settings.kafka.ssl_keyfile or None)
    return options


MIN_MESSAGE_BYTES = 1024 * 1024  # about the broker's default; a dead letter (at most ~160 KiB) always fits


def max_message_bytes(settings: Settings) -> int:
    limit = settings.kafka.max_message_bytes
    if limit < MIN_MESSAGE_BYTES:
        raise ConfigError(f"CA_KAFKA_MAX_MESSAGE_BYTES={limit}: at least {MIN_MESSAGE_BYTES} (1 MiB) is needed")
    return limit


def topic_max_message_bytes(settings: Settings) -> int:
    """A topic's `max.message.bytes`: the limit plus 1/128, since the broker checks a batch after compression
    and zstd can make incompressible data slightly larger (by at most 1/256 and a few bytes)."""
    limit = max_message_bytes(settings)
    return limit + limit // 128


def message_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    """The size aiokafka checks against `max_request_size`: the message alone in a record batch."""
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    return size


# Per topic, the smallest message its broker refused although it was under the limit: a topic whose own
# max.message.bytes is lower (created before the limit was raised). Messages that large count as over the
# limit for it from then on, in this process, so they are dead-lettered rather than refused again.
_refused_sizes: dict[str, int] = {}


def message_limit(settings: Settings, topic: str) -> int:
    """The largest message this process sends to `topic`."""
    limit = max_message_bytes(settings)
    refused = _refused_sizes.get(topic)
    return limit if refused is None else min(limit, refused - 1)


def broker_refused(settings: Settings, topic: str, size: int) -> None:
    if size <= message_limit(settings, topic):
        _refused_sizes[topic] = size
        log.error("Kafka refused a message of %d bytes for %s, under CA_KAFKA_MAX_MESSAGE_BYTES=%d: the topic's "
                  "max.message.bytes is lower. Messages that large for it are dead-lettered from now on; "
                  "`cognigy-archiver topics create` raises the topic's limit",
                  size, topic, settings.kafka.max_message_bytes)


class TransactionalProducer:
    """A stage's transactional producer (`.producer`), replaced after a message the broker refused: aiokafka has
    counted the refused batch's sequence numbers all the same, so it would fail every later send to that
    partition with OutOfOrderSequenceNumber. A new one under the same transactional id starts a new epoch."""

    def __init__(self, settings: Settings, stage: str) -> None:
        self.settings = settings
        self.stage = stage
        self.producer = self._new()

    def _new(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **client_kwargs(self.settings),
            transactional_id=self.settings.kafka.transactional_id(self.stage),
            transaction_timeout_ms=self.settings.kafka.transaction_timeout_ms,
            enable_idempotence=True,
            compression_type="zstd",
            max_request_size=max_message_bytes(self.settings),
            linger_ms=5,
        )

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def replace(self) -> None:
        await self.producer.stop()
        self.producer = self._new()
        await self.producer.start()


def plain_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**client_kwargs(settings), enable_idempotence=True, compression_type="zstd",
                            max_request_size=max_message_bytes(settings))


def group_consumer(settings: Settings, stage: str, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A read_committed member of the stage's group, committing nothing itself (offsets go in transactions).

    Static membership, keyed by the transactional id (stable per instance: a StatefulSet pod's name): a
    restarted member takes its partitions back at once, where a dynamic one waits out its dead
    predecessor's session before the group rebalances. The cost: a member that stops for good (a scale-down)
    does not leave the group, so its partitions move only when its session times out."""
    options: dict[str, Any] = {
        "group_id": settings.kafka.group_id(stage),
        "group_instance_id": settings.kafka.transactional_id(stage),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        **fetch_sizes(settings),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **client_kwargs(settings), **options)


def fetch_sizes(settings: Settings) -> dict[str, int]:
    """Enough for the largest batch a topic takes, from one partition and in all."""
    largest = topic_max_message_bytes(settings)
    return {"max_partition_fetch_bytes": largest, "fetch_max_bytes": 2 * largest}


def reader(settings: Settings) -> AIOKafkaConsumer:
    """A group-less read_committed consumer for reading compacted topics from the start."""
    return AIOKafkaConsumer(
        **client_kwargs(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **fetch_sizes(settings),
    )
