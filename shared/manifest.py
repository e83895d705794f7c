"""An export's manifest: written last, when every page is in; rewritten by `subject erase`."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages import OutputFormat, PiiRule
from shared.segments import SegmentMeta, failure_key, manifest_key
from shared.storage import ObjectMissing, ObjectStore

MANIFEST_VERSION = 3
_json = msgspec.json.Encoder()


class DictionaryRef(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    dictionary_id: int
    sha256: str
    bytes: int


class OffsetRange(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    partition: int
    first: int
    last: int


class EncryptionRef(msgspec.Struct, frozen=True, kw_only=True):
    """How the export's segments are sealed; the wrapped data key is in the key store, never here."""

    algorithm: str
    data_key_id: str
    master_key_id: str
    generation: int = 0  # which of the export's keys in the key store (`subject erase --rekey` moves it on)


class IndexRef(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    sha256: str
    bytes: int
    entries: int


class Erasure(msgspec.Struct, frozen=True, kw_only=True):
    """One `subject erase` that changed this export (what it removed is in the audit log)."""

    erasure_id: str
    at: datetime
    records: int
    segments: list[str]  # keys of the rewritten segments


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    format: OutputFormat
    total_pages: int
    records: int
    bytes: int
    partial: bool
    dead_pages: list[int]
    rejected_records: int
    redactions: dict[str, int]
    key_ids: list[str]  # the sanitizer's tokenization key ids the records were sanitized with
    pii_rules: list[PiiRule]  # the rules the sanitizer applied
    dictionaries: list[DictionaryRef]
    segments: list[SegmentMeta]
    offset_ranges: list[OffsetRange]
    retention_days: int | None
    expires_at: datetime | None
    started_at: datetime | None
    completed_at: datetime
    encryption: EncryptionRef | None = None
    subject_index: IndexRef | None = None
    erasures: list[Erasure] = []
    version: int = MANIFEST_VERSION


class ExportFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why an export failed (`<export_id>/failed.json`): it has no manifest and never will."""

    export_id: str
    error: str
    message: str
    failed_at: datetime


def offset_ranges(segments: list[SegmentMeta]) -> list[OffsetRange]:
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for s in segments:
        first, last = spans.get((s.source_topic, s.source_partition), (s.source_offset, s.source_offset))
        spans[(s.source_topic, s.source_partition)] = (min(first, s.source_offset), max(last, s.source_offset))
    return [OffsetRange(topic=t, partition=p, first=f, last=la) for (t, p), (f, la) in sorted(spans.items())]


async def write_manifest(store: ObjectStore, manifest: Manifest) -> bytes:
    data = msgspec.json.format(_json.encode(manifest))
    await store.put(manifest_key(manifest.export_id), data)
    return data


async def read_manifest(store: ObjectStore, export_id: str) -> Manifest:
    return msgspec.json.decode(await store.get(manifest_key(export_id)), type=Manifest)


async def read_failure(store: ObjectStore, export_id: str) -> ExportFailure | None:
    try:
        return msgspec.json.decode(await store.get(failure_key(export_id)), type=ExportFailure)
    except ObjectMissing:
        return None
