"""An export's manifest (written last, when every page is in) and `verify_export`, which re-reads every
object of an export and checks it against the manifest."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages import OutputFormat, PiiRule
from shared.segments import (
    SegmentError,
    SegmentMeta,
    decode_segment,
    failure_key,
    manifest_key,
    read_dictionaries,
    sha256_hex,
)
from shared.storage import ObjectMissing, ObjectStore

MANIFEST_VERSION = 2
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


async def read_export_records(store: ObjectStore, export_id: str) -> list[dict[str, object]]:
    """Every archived record of an export, in manifest order."""
    manifest = await read_manifest(store, export_id)
    dictionaries = await read_dictionaries(store, [d.key for d in manifest.dictionaries])
    return [r for seg in manifest.segments
            for r in decode_segment(await store.get(seg.key), seg.format, dictionaries)]


class VerifyReport(msgspec.Struct, kw_only=True):
    export_id: str
    segments: int
    records: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_export(store: ObjectStore, export_id: str) -> VerifyReport:
    """Re-read every object of an export and check hashes, sizes and record counts against the manifest;
    objects missing from the archive, or in it but not in the manifest, are problems too."""
    report = VerifyReport(export_id=export_id, segments=0, records=0, problems=[])
    try:
        manifest = await read_manifest(store, export_id)
    except ObjectMissing:
        failure = await read_failure(store, export_id)
        why = f"the export failed: {failure.message}" if failure else "the export is not complete (or unknown)"
        report.problems.append(f"no manifest: {why}")
        return report
    report.segments = len(manifest.segments)
    dictionaries: dict[int, bytes] = {}
    for ref in manifest.dictionaries:
        data = await _checked(store, ref.key, ref.sha256, ref.bytes, report.problems)
        if data is not None:
            dictionaries[ref.dictionary_id] = data
    for seg in manifest.segments:
        data = await _checked(store, seg.key, seg.sha256, seg.bytes, report.problems)
        if data is None:
            continue
        try:
            count = len(decode_segment(data, seg.format, dictionaries))
        except SegmentError as exc:
            report.problems.append(f"{seg.key}: cannot be decoded: {exc}")
            continue
        if count != seg.records:
            report.problems.append(f"{seg.key}: {count} records, the manifest says {seg.records}")
        report.records += count
    if report.records != manifest.records and not report.problems:
        report.problems.append(f"{report.records} records in segments, the manifest says {manifest.records}")
    listed = {s.key for s in manifest.segments} | {d.key for d in manifest.dictionaries}
    stored = [k for k in await store.keys(export_id) if k.endswith((".zst", ".zdict"))]
    report.problems.extend(f"{extra}: in the archive but not in the manifest" for extra in stored
                           if extra not in listed)
    return report


async def _checked(store: ObjectStore, key: str, sha256: str, size: int, problems: list[str]) -> bytes | None:
    """The object's bytes if it is there and matches its hash and size; else None, with the problem noted."""
    try:
        data = await store.get(key)
    except ObjectMissing:
        problems.append(f"{key}: missing from the archive")
        return None
    if sha256_hex(data) != sha256:
        problems.append(f"{key}: SHA-256 differs from the manifest")
        return None
    if len(data) != size:
        problems.append(f"{key}: size {len(data)} differs from the manifest's {size}")
        return None
    return data
