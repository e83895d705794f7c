"""Every topic and webhook of the pipeline as a contract (shared/contract.py): its messages, key, senders
and receivers. `cognigy-archiver schemas write` turns it into docs/schemas/; tests/test_schema_contract.py
holds it to the code (every topic of shared/kafka/topics.py, the KafkaUsers' ACLs, the real messages)."""

from __future__ import annotations

from shared.contract import Channel, Contract, Schema, Webhook
from shared.kafka.topics import (
    ARCHIVE_SEGMENTS,
    DLQ,
    EXPORTS,
    EXPORTS_PROGRESS,
    EXPORTS_STATUS,
    FETCH_CHECKPOINTS,
    NOTIFIER_DELIVERIES,
    NOTIFIER_STATE,
    PAGES_RAW,
    PAGES_SANITIZED,
    PAGES_VERIFIED,
    SCHEDULER_STATE,
    SCHEDULES,
    TRANSCRIPTS_SANITIZED,
    topic_specs,
)
from shared.messages import (
    CheckpointEntry,
    DeadLetter,
    ExportRequest,
    ExportStatus,
    PageMessage,
    PageProgress,
    SanitizedMessage,
    ScheduleRequest,
    ScheduleState,
    SegmentMessage,
    VerifiedMessage,
)
from shared.public_topic import CONTENT_TYPE, PublicMessage
from shared.settings import Settings
from stages.notifier.changelog import ChangelogEntry
from stages.notifier.messages import DeliveryOutcome
from stages.notifier.webhook_payloads import WEBHOOK_SCHEMA_VERSION, ArchivalCompletedEvent, ExportStatusEvent
from stages.notifier.webhooks import COMPLETED_EVENT, STATUS_EVENT

PAGE_KEY = "export_id:page_index (page index zero-padded to 8 digits); ExportTotal: export_id, on every partition"
PUBLIC_HEADERS: dict[str, Schema] = {
    "export_id": {"type": "string", "description": "The export the message belongs to"},
    "schema_version": {"type": "string", "description": "The value's `v`, as decimal digits"},
    "content_type": {"type": "string", "const": CONTENT_TYPE},
    "message_type": {"type": "string", "enum": ["transcript_record", "page_withheld", "export_end"],
                     "description": "The value's `type`"},
}

CHANNELS = (
    Channel(EXPORTS, ExportRequest, "msgpack", "export_id", ("client", "scheduler"), ("fetcher",),
            "Export requests (`export submit`, the scheduler's windows)."),
    Channel(SCHEDULES, ScheduleRequest, "msgpack", "name", ("client",), ("scheduler",),
            "Bounded schedules asked for by `export backfill`."),
    Channel(PAGES_RAW, PageMessage, "msgpack", PAGE_KEY, ("fetcher",), ("verifier",),
            "Pages as the source sent them (personal data: raw)."),
    Channel(PAGES_VERIFIED, VerifiedMessage, "msgpack", PAGE_KEY, ("verifier",), ("sanitizer",),
            "Pages whose checksum was proven, split into records (personal data: raw)."),
    Channel(PAGES_SANITIZED, SanitizedMessage, "msgpack", PAGE_KEY, ("sanitizer",), ("archiver",),
            "Internal: the sanitizer's pages, PII replaced, for the archiver."),
    Channel(TRANSCRIPTS_SANITIZED, PublicMessage, "json",
            "transcript_record: the conversation (sessionId), or export_id:page_index for a record without one; "
            "page_withheld and export_end: export_id (sent to every partition)",
            ("sanitizer",), ("downstream",),
            "Public: one JSON message per sanitized record (a conversation turn), a conversation's on one "
            "partition, with an end marker per export on every partition. Read with isolation.level="
            "read_committed. See shared/public_topic.py for what holds of the order.", PUBLIC_HEADERS),
    Channel(ARCHIVE_SEGMENTS, SegmentMessage, "msgpack", "export_id (ExportTotal: as on pages.sanitized)",
            ("archiver", "fetcher"), ("notifier",), "Archived segments, the export totals and fetch failures."),
    Channel(NOTIFIER_DELIVERIES, DeliveryOutcome, "msgpack", "export_id", ("notifier",), ("notifier",),
            "What each webhook delivery attempt came to, for the notifier's transactional loop."),
    Channel(NOTIFIER_STATE, ChangelogEntry, "msgpack", "export_id (endpoint markers: \\x00disabled:<endpoint id>)",
            ("notifier",), ("notifier",), "The notifier's per-export state, compacted."),
    Channel(EXPORTS_STATUS, ExportStatus, "msgpack", "export_id:stage", ("fetcher", "notifier"),
            ("client", "scheduler"), "Each stage's latest word per export, compacted."),
    Channel(EXPORTS_PROGRESS, PageProgress, "msgpack", "export_id", ("verifier", "sanitizer", "archiver"),
            ("client",), "A stage finished a page (`export status --follow`)."),
    Channel(FETCH_CHECKPOINTS, CheckpointEntry, "msgpack", "export_id; FetchedIds: ids:<export_id>:<page_index>",
            ("fetcher",), ("fetcher", "notifier", "client"), "Where the fetcher resumes an export, compacted."),
    Channel(SCHEDULER_STATE, ScheduleState, "msgpack", "name", ("scheduler",), ("scheduler", "client"),
            "Each schedule's state, compacted."),
    Channel(DLQ, DeadLetter, "msgpack", "the input's key", ("fetcher", "verifier", "sanitizer", "archiver",
                                                            "notifier", "scheduler"), (),
            "Input a stage could not process, with the reason (may hold raw bytes: classed with the raw topics)."),
)

WEBHOOKS = (
    Webhook(COMPLETED_EVENT, ArchivalCompletedEvent, WEBHOOK_SCHEMA_VERSION,
            "An export is archived (`partial` when pages or records are missing)."),
    Webhook(STATUS_EVENT, ExportStatusEvent, WEBHOOK_SCHEMA_VERSION,
            "An export started, was archived partially, or failed."),
)


def pipeline_contract() -> Contract:
    settings = Settings()
    return Contract(
        title="cognigy-archiver topics and webhooks",
        description="Every Kafka topic of the pipeline and the webhooks it sends. `transcripts.sanitized` is the "
                    "public topic (JSON); the others are the pipeline's own (MessagePack: the same schemas, bytes "
                    "as bin, datetimes as MessagePack timestamps). Generated by `cognigy-archiver schemas write`.",
        topic_prefix=settings.kafka.topic_prefix,
        partitions={spec.name: spec.partitions for spec in topic_specs(settings)},
        channels=CHANNELS, webhooks=WEBHOOKS)
