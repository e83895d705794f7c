"""Every topic the pipeline uses, created explicitly by `cognigy-archiver topics create`; nothing relies on
broker auto-create."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.kafka.clients import client_kwargs
from shared.settings import Settings

log = logging.getLogger(__name__)

WEEK_MS = 7 * 24 * 3600 * 1000

EXPORTS = "exports"
PAGES_RAW = "pages.raw"
PAGES_VERIFIED = "pages.verified"
TRANSCRIPTS_SANITIZED = "transcripts.sanitized"
ARCHIVE_SEGMENTS = "archive.segments"
EXPORTS_STATUS = "exports.status"
EXPORTS_PROGRESS = "exports.progress"
FETCH_CHECKPOINTS = "fetch.checkpoints"
NOTIFIER_STATE = "notifier.state"
DLQ = "dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    pages = settings.page_partitions
    compacted = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
    kept = {"cleanup.policy": "delete", "retention.ms": str(WEEK_MS)}
    return [
        TopicSpec(EXPORTS, 1, kept),
        # Page topics share one partition count so every stage keeps a page on the same partition number.
        TopicSpec(PAGES_RAW, pages, kept),
        TopicSpec(PAGES_VERIFIED, pages, kept),
        TopicSpec(TRANSCRIPTS_SANITIZED, pages, kept),
        TopicSpec(ARCHIVE_SEGMENTS, pages, kept),
        TopicSpec(EXPORTS_STATUS, 1, compacted),
        TopicSpec(EXPORTS_PROGRESS, pages, kept),
        TopicSpec(FETCH_CHECKPOINTS, 1, compacted),
        # Co-partitioned with archive.segments: the state of an export lives on its input's partition.
        TopicSpec(NOTIFIER_STATE, pages, compacted),
        TopicSpec(DLQ, 1, {"cleanup.policy": "delete", "retention.ms": str(4 * WEEK_MS)}),
    ]


async def create_topics(settings: Settings, replication_factor: int = 1) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left as they are."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        for spec in topic_specs(settings):
            name = settings.topic(spec.name)
            if name in existing:
                continue
            try:
                await admin.create_topics(
                    [NewTopic(name, spec.partitions, replication_factor, topic_configs=spec.config)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        await _wait_for_metadata(admin, [settings.topic(s.name) for s in topic_specs(settings)])
    finally:
        await admin.close()
    return created


async def _wait_for_metadata(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    for _ in range(100):
        if set(names) <= set(await admin.list_topics()):
            return
        await asyncio.sleep(0.1)
