"""Writing an archived export in-process from given records, for the tests of the archive format and the
benchmarks: the archiver's own code writes the segments, the notifier's writes the manifest, as in the pipeline
but without Kafka."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord

from shared.archive.audit import AuditLog
from shared.archive.keystore import KeyStore
from shared.archive.manifest import Manifest, ManifestSeal, manifest_record
from shared.archive.storage import ObjectStore
from shared.kafka.loop import Record
from shared.messages import (
    ExportOptions,
    ExportTotal,
    OutputFormat,
    SanitizedPage,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
)
from shared.settings import Settings
from stages.archiver.stage import Archiver
from stages.notifier.changelog import NotifierState
from stages.notifier.manifests import write_export_manifest
from stages.notifier.progress import apply

TOPIC = "t.pages.sanitized"
SYNTHETIC_AUDIT_KEY = b"archive-fixtures-audit-key-0123456789"  # seals manifests of exports archived without a log


def input_record(value: bytes, partition: int, offset: int, timestamp_ms: int = 1_790_000_000_000) -> Record:
    """`value` as a record the archiver consumed from the sanitized topic at `partition` and `offset`."""
    return ConsumerRecord(topic=TOPIC, partition=partition, offset=offset, timestamp=timestamp_ms, timestamp_type=0,
                          key=None, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=[])


async def archive_export(store: ObjectStore, export_id: str, pages: list[list[dict[str, Any]]], *,
                         fmt: OutputFormat = "jsonl", retention_days: int | None = None,
                         completed_at: datetime = datetime(2026, 10, 1, tzinfo=UTC),
                         settings: Settings | None = None, keys: KeyStore | None = None,
                         audit: AuditLog | None = None) -> Manifest:
    """The export as the archiver and notifier write it; with `keys`, encrypted; with `audit`, its manifest
    sealed with that log's key and recorded in it (else sealed with SYNTHETIC_AUDIT_KEY, recorded nowhere)."""
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
    # As consumed from two partitions: the pages, then the export's total on each.
    inputs = [input_record(encode(page), page.page_index % 2, 100 + page.page_index) for page in pages]
    total = ExportTotal(export_id=export_id, total_pages=len(pages), total_records=sum(len(p.records) for p in pages),
                        started_at=completed_at)
    inputs += [input_record(encode(total), partition, 100 + len(pages) + partition) for partition in (0, 1)]
    state = NotifierState(export_id=export_id, total_pages=len(pages), started_at=completed_at)
    for record in inputs:
        for out in await archiver.process(record):
            if out.topic == archiver.out_topic and isinstance(event := decode(out.value, SegmentMessage),
                                                                SegmentWritten):
                state = apply(state, event, completed_at)
    seal = ManifestSeal(audit.key if audit else SYNTHETIC_AUDIT_KEY)
    manifest, data = await write_export_manifest(store, state, completed_at, seal, keys,
                                                 (settings or Settings()).archive.parquet_row_group_records)
    if audit is not None:
        await audit.append(f"archived:{export_id}", "export archived", export_id, manifest_record(data))
    return manifest
