"""`topics describe`: each topic's partitions and messages, and how far behind its consuming stage is."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.table import Table

from shared.kafka.clients import client_kwargs, reader
from shared.kafka.topics import (
    ARCHIVE_SEGMENTS,
    EXPORTS,
    NOTIFIER_DELIVERIES,
    PAGES_RAW,
    PAGES_SANITIZED,
    PAGES_VERIFIED,
    SCHEDULES,
    topic_specs,
)
from shared.settings import Settings

CONSUMER = {EXPORTS: "fetcher", PAGES_RAW: "verifier", PAGES_VERIFIED: "sanitizer",
            PAGES_SANITIZED: "archiver", ARCHIVE_SEGMENTS: "notifier",
            NOTIFIER_DELIVERIES: "notifier", SCHEDULES: "scheduler"}


async def topic_report(settings: Settings) -> Table:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    consumer = reader(settings)
    await admin.start()
    await consumer.start()
    # Each committed transaction leaves a marker at the end of its partitions, so a stage that has
    # consumed everything shows a lag of 1 per partition it has written transactionally to.
    table = Table("topic", "partitions", "policy", "end offset", "consumer", "lag (incl. txn markers)",
                  title=f"topics {settings.kafka.topic_prefix}*")
    try:
        existing = set(await admin.list_topics())
        for spec in topic_specs(settings):
            name = settings.kafka.topic(spec.name)
            if name not in existing:
                table.add_row(spec.name, str(spec.partitions), spec.config.get("cleanup.policy", ""), "missing", "", "")
                continue
            tps = [TopicPartition(name, p) for p in range(spec.partitions)]
            ends = await consumer.end_offsets(tps)
            stage = CONSUMER.get(spec.name, "")
            lag = ""
            if stage:
                committed = await admin.list_consumer_group_offsets(settings.kafka.group_id(stage), partitions=tps)
                behind = [ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                          for tp in tps]
                lag = f"{sum(behind):,} ({' '.join(map(str, behind))})"
            table.add_row(spec.name, str(spec.partitions), spec.config.get("cleanup.policy", ""),
                          f"{sum(ends.values()):,}", stage, lag)
    finally:
        await consumer.stop()
        await admin.close()
    return table
