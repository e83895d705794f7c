"""One message limit on the real broker: every send awaited, a refused one aborting its transaction without
breaking the producer, and topics that take what the producers may send."""

from __future__ import annotations

import os

import msgspec
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka.clients import TransactionalProducer, client_kwargs, message_limit, message_size
from shared.kafka.loop import MessageRefused, Output, send_transaction
from shared.kafka.tables import topic_values
from shared.kafka.topics import PAGES_VERIFIED, create_topics, topic_specs
from shared.settings import Settings

MIB = 1024 * 1024


async def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, settings.kafka.topic(name))
        [described] = await admin.describe_configs([resource])
    finally:
        await admin.close()
    return {entry[0]: entry[1] for entry in described.resources[0][4]}


async def make_topic(settings: Settings, name: str, config: dict[str, str]) -> None:
    """A topic as made before the limit existed (or by hand): the broker's default limit unless `config` sets one."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(settings.kafka.topic(name), 1, 1, topic_configs=config)])
    finally:
        await admin.close()


def value_of_size(key: bytes, size: int) -> bytes:
    """Random (incompressible) bytes making a message of exactly `size` bytes as the producer counts it."""
    length = size - message_size(key, b"", [])
    while message_size(key, b"\0" * length, []) > size:
        length -= 1
    return os.urandom(length)


async def test_a_refused_message_aborts_its_transaction_and_the_next_transaction_arrives(settings: Settings) -> None:
    # The topic takes 100 kB; the producers may send 8 MiB: the broker refuses what the producer accepts.
    await make_topic(settings, "small", {"max.message.bytes": "100000"})
    topic = settings.kafka.topic("small")
    big = Output(topic, os.urandom(200_000), partition=0)
    producer = TransactionalProducer(settings, "sizes")
    await producer.start()
    try:
        with pytest.raises(MessageRefused) as refused:
            await send_transaction(producer, [Output(topic, b"sent with the big one", partition=0), big])
        assert [out.value for out in refused.value.too_large] == [big.value]
        # The same partition again: the refused batch's sequence numbers must not fail it
        # (OutOfOrderSequenceNumber), nor may the commit go through without it.
        await send_transaction(producer, [Output(topic, b"the next one", partition=0)])
    finally:
        await producer.stop()
    assert await topic_values(settings, "small") == [b"the next one"]
    # From now on this process counts a message that large as over the topic's limit.
    assert message_limit(settings, topic) < message_size(None, big.value, []) <= message_limit(settings, "other")


async def test_every_topic_takes_a_message_at_the_limit_and_topics_create_raises_an_older_ones_limit(
        settings: Settings) -> None:
    kafka = msgspec.structs.replace(settings.kafka, max_message_bytes=2 * MIB)  # over the broker's 1 MB
    settings = msgspec.structs.replace(settings, kafka=kafka)
    # Made before: the broker's default limit, and a setting of its own that must survive.
    await make_topic(settings, PAGES_VERIFIED, {"retention.ms": "123456789"})
    changes = await create_topics(settings)
    assert set(changes.raised) == {settings.kafka.topic(PAGES_VERIFIED)}
    assert changes.raised[settings.kafka.topic(PAGES_VERIFIED)] < 2 * MIB
    config = await topic_configs(settings, PAGES_VERIFIED)
    assert config["retention.ms"] == "123456789" and int(config["max.message.bytes"]) > 2 * MIB
    assert (await create_topics(settings)).raised == {}  # never lowered, never raised twice

    producer = TransactionalProducer(settings, "sizes")
    await producer.start()
    try:
        key = b"k"  # compacted topics take only keyed messages
        outputs = [Output(settings.kafka.topic(spec.name), value_of_size(key, 2 * MIB), key=key, partition=0)
                   for spec in topic_specs(settings)]
        assert {message_size(o.key, o.value, o.headers) for o in outputs} == {2 * MIB}
        await send_transaction(producer, outputs)
    finally:
        await producer.stop()
    for spec in topic_specs(settings):
        assert [len(v) for v in await topic_values(settings, spec.name)] == [len(outputs[0].value)], spec.name
