"""Building archived exports in-process, for tests of the archive format, verify, expiry and the CLI:
the archiver's own code writes the segments, the notifier's writes the manifest."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord

from shared.audit import AuditLog
from shared.kafka.clients import plain_producer
from shared.kafka.loop import Record
from shared.keystore import KeyStore
from shared.manifest import Manifest, ManifestSeal, manifest_record
from shared.messages import (
    ExportOptions,
    OutputFormat,
    SanitizedPage,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
    page_key,
)
from shared.settings import Settings
from shared.storage import ObjectStore
from shared.topics import ARCHIVE_SEGMENTS, TRANSCRIPTS_SANITIZED
from simulator.dataset import generate_dataset
from simulator.server import dataset_window
from stages.archiver.stage import Archiver
from stages.notifier.changelog import NotifierState
from stages.notifier.manifests import write_export_manifest
from stages.notifier.progress import apply
from tests.kafka_io import topic_values

TOPIC = "t.transcripts.sanitized"
FIXTURE_AUDIT_KEY = b"archive-fixtures-audit-key-0123456789"  # seals manifests of exports archived without a log


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`cognigy-archiver ARGS` as a real process, with these settings on top of the environment."""
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def conversation_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    records = generate_dataset(seed, max(1, count // 4), dataset_window()[0]).records
    assert len(records) >= count
    return records[:count]


def input_record(value: bytes, partition: int, offset: int, timestamp_ms: int = 1_790_000_000_000) -> Record:
    return ConsumerRecord(topic=TOPIC, partition=partition, offset=offset, timestamp=timestamp_ms, timestamp_type=0,
                          key=None, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=[])


async def archive_export(store: ObjectStore, export_id: str, pages: list[list[dict[str, Any]]], *,
                         fmt: OutputFormat = "jsonl", retention_days: int | None = None,
                         completed_at: datetime = datetime(2026, 10, 1, tzinfo=UTC),
                         settings: Settings | None = None, keys: KeyStore | None = None,
                         audit: AuditLog | None = None) -> Manifest:
    """The export as the archiver and notifier write it; with `keys`, encrypted; with `audit`, its manifest
    sealed with that log's key and recorded in it (else sealed with FIXTURE_AUDIT_KEY, recorded nowhere)."""
    options = ExportOptions(output_format=fmt, retention_days=retention_days)
    return await archive_pages(store, [SanitizedPage(export_id=export_id, page_index=index, records=records,
                                                     redactions=[], key_id="k1", options=options)
                                       for index, records in enumerate(pages)],
                               completed_at=completed_at, settings=settings, keys=keys, audit=audit)


async def archive_pages(store: ObjectStore, pages: list[SanitizedPage], *,
                        completed_at: datetime = datetime(2026, 10, 1, tzinfo=UTC), settings: Settings | None = None,
                        keys: KeyStore | None = None, audit: AuditLog | None = None) -> Manifest:
    """`archive_export` for pages as the sanitizer made them (one export's, all of them)."""
    archiver = Archiver(settings or Settings(), store, keys)
    export_id = pages[0].export_id
    state = NotifierState(export_id=export_id, total_pages=len(pages), started_at=completed_at)
    for page in pages:
        event = await archiver.archive(input_record(b"", page.page_index % 2, 100 + page.page_index), page)
        state = apply(state, event, completed_at)
    seal = ManifestSeal(audit.key if audit else FIXTURE_AUDIT_KEY)
    manifest, data = await write_export_manifest(store, state, completed_at, seal)
    if audit is not None:
        await audit.append(f"archived:{export_id}", "export archived", export_id, manifest_record(data))
    return manifest


def sanitized_pages(export_id: str, pages: int, per_page: int, options: ExportOptions | None = None,
                    ) -> list[SanitizedPage]:
    records = conversation_records(pages * per_page)
    return [SanitizedPage(export_id=export_id, page_index=i, records=records[i * per_page:(i + 1) * per_page],
                          redactions=[], key_id="k1", options=options or ExportOptions()) for i in range(pages)]


async def produce_pages(settings: Settings, pages: list[SanitizedPage], topic: str = TRANSCRIPTS_SANITIZED) -> None:
    """Publish pages as the sanitizer does: keyed per page, so they spread over the partitions."""
    producer = plain_producer(settings)
    await producer.start()
    try:
        for page in pages:
            await producer.send(settings.topic(topic), encode(page), key=page_key(page.export_id, page.page_index))
        await producer.flush()
    finally:
        await producer.stop()


async def segment_events(settings: Settings) -> list[SegmentWritten]:
    """The archiver's committed segment events so far."""
    messages = [decode(v, SegmentMessage) for v in await topic_values(settings, ARCHIVE_SEGMENTS)]
    return [m for m in messages if isinstance(m, SegmentWritten)]
