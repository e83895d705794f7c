"""Every topic the pipeline uses, created explicitly by `cognigy-archiver topics create`; nothing relies on
broker auto-create.

Every topic takes messages up to the pipeline's limit (`max.message.bytes`, see shared/kafka/clients.py).
`topics create` raises the limit of an existing topic that takes less (a topic made before the limit was
raised, or with the broker's 1 MB default), and never lowers one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.kafka.clients import client_kwargs, topic_max_message_bytes
from shared.settings import Settings

log = logging.getLogger(__name__)

WEEK_MS = 7 * 24 * 3600 * 1000

EXPORTS = "exports"
PAGES_RAW = "pages.raw"
PAGES_VERIFIED = "pages.verified"
PAGES_SANITIZED = "pages.sanitized"  # internal: the sanitizer's pages, for the archiver
TRANSCRIPTS_SANITIZED = "transcripts.sanitized"  # public: one JSON message per record (shared/public_topic.py)
ARCHIVE_SEGMENTS = "archive.segments"
EXPORTS_STATUS = "exports.status"
EXPORTS_PROGRESS = "exports.progress"
FETCH_CHECKPOINTS = "fetch.checkpoints"
NOTIFIER_STATE = "notifier.state"
NOTIFIER_DELIVERIES = "notifier.deliveries"  # the notifier's webhook delivery outcomes, to itself
SCHEDULER_STATE = "scheduler.state"
SCHEDULES = "schedules"
DLQ = "dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    pages = settings.kafka.page_partitions
    sized = {"max.message.bytes": str(topic_max_message_bytes(settings))}
    compacted = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000", **sized}
    kept = {"cleanup.policy": "delete", "retention.ms": str(WEEK_MS), **sized}
    return [
        TopicSpec(EXPORTS, 1, kept),
        # Page topics share one partition count so every stage keeps a page on the same partition number.
        TopicSpec(PAGES_RAW, pages, kept),
        TopicSpec(PAGES_VERIFIED, pages, kept),
        TopicSpec(PAGES_SANITIZED, pages, kept),
        # Keyed by conversation, not pinned to a page's partition; the same count so markers reach every partition.
        TopicSpec(TRANSCRIPTS_SANITIZED, pages, kept),
        TopicSpec(ARCHIVE_SEGMENTS, pages, kept),
        TopicSpec(EXPORTS_STATUS, 1, compacted),
        TopicSpec(EXPORTS_PROGRESS, pages, kept),
        TopicSpec(FETCH_CHECKPOINTS, 1, compacted),
        # Co-partitioned with archive.segments: the state of an export lives on its input's partition.
        TopicSpec(NOTIFIER_STATE, pages, compacted),
        # Co-partitioned with archive.segments too (key export_id): an outcome reaches its export's state.
        TopicSpec(NOTIFIER_DELIVERIES, pages, kept),
        TopicSpec(SCHEDULER_STATE, 1, compacted),
        TopicSpec(SCHEDULES, 1, kept),
        TopicSpec(DLQ, 1, {"cleanup.policy": "delete", "retention.ms": str(4 * WEEK_MS), **sized}),
    ]


@dataclass(frozen=True)
class TopicChanges:
    created: list[str]
    raised: dict[str, int]  # existing topics whose max.message.bytes was raised: name -> what it was


async def create_topics(settings: Settings, replication_factor: int = 1) -> TopicChanges:
    """Create missing topics and raise the message limit of existing ones that take less; every other setting
    of an existing topic is left as it is."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        raised = await _raise_message_limits(admin, settings, sorted(existing & {settings.kafka.topic(s.name)
                                                                                 for s in topic_specs(settings)}))
        for spec in topic_specs(settings):
            name = settings.kafka.topic(spec.name)
            if name in existing:
                continue
            try:
                await admin.create_topics(
                    [NewTopic(name, spec.partitions, replication_factor, topic_configs=spec.config)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        await _wait_for_metadata(admin, [settings.kafka.topic(s.name) for s in topic_specs(settings)])
    finally:
        await admin.close()
    return TopicChanges(created, raised)


DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source: set on the topic itself


async def _raise_message_limits(admin: AIOKafkaAdminClient, settings: Settings, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    wanted = topic_max_message_bytes(settings)
    [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    raised: dict[str, int] = {}
    for error_code, _, _, name, entries in described.resources:
        if error_code:
            raise for_code(error_code)(f"describing the configuration of {name}")
        values = {entry[0]: entry[1] for entry in entries}
        current = int(values["max.message.bytes"])
        if current >= wanted:
            continue
        # AlterConfigs replaces every setting made on the topic (aiokafka has no incremental form): send
        # those again unchanged, with the new limit.
        kept = {entry[0]: entry[1] for entry in entries if entry[3] == DYNAMIC_TOPIC_CONFIG}
        [response] = await admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, name, {**kept, "max.message.bytes": str(wanted)})])
        for code, message, _, _ in response.resources:
            if code:
                raise for_code(code)(f"raising max.message.bytes of {name}: {message}")
        raised[name] = current
        log.warning("raised max.message.bytes of %s from %d to %d", name, current, wanted)
    return raised


async def _wait_for_metadata(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    for _ in range(100):
        if set(names) <= set(await admin.list_topics()):
            return
        await asyncio.sleep(0.1)
