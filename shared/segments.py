"""The archive's layout and formats, shared by the archiver (writes), the notifier (writes the manifest)
and `archive verify` (reads).

    <export_id>/segments/<topic>+<partition>+<offset:020d>.jsonl.zst   one sanitized page, zstd JSON lines
    <export_id>/segments/<same>.meta.json                              its SegmentMeta, written right after
    <export_id>/manifest.json                                           written last, when the export is whole

Keys come from (export, topic, partition, offset): a replay rebuilds the same object under the same key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec
import zstandard

from shared.archive_store import FilesystemStore

MANIFEST_VERSION = 1
_json = msgspec.json.Encoder()


class SegmentMeta(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    sha256: str
    bytes: int
    records: int
    page_index: int
    source_topic: str
    source_partition: int
    source_offset: int
    key_id: str


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    total_pages: int
    records: int
    bytes: int
    partial: bool
    dead_pages: list[int]
    rejected_records: int
    redactions: dict[str, int]
    segments: list[SegmentMeta]
    started_at: datetime | None
    completed_at: datetime
    version: int = MANIFEST_VERSION


def segment_key(export_id: str, topic: str, partition: int, offset: int, fmt: str = "jsonl") -> str:
    return f"{export_id}/segments/{topic}+{partition}+{offset:020d}.{fmt}.zst"


def meta_key(segment: str) -> str:
    return segment.rsplit(".", 2)[0] + ".meta.json"


def manifest_key(export_id: str) -> str:
    return f"{export_id}/manifest.json"


def encode_segment(records: list[dict[str, Any]]) -> bytes:
    body = b"".join(_json.encode(r) + b"\n" for r in records)
    return zstandard.ZstdCompressor(level=6, write_checksum=True).compress(body)


def decode_segment(data: bytes) -> list[dict[str, Any]]:
    body = zstandard.ZstdDecompressor().decompress(data)
    return [msgspec.json.decode(line) for line in body.splitlines() if line]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_meta(store: FilesystemStore, meta: SegmentMeta) -> None:
    store.put(meta_key(meta.key), _json.encode(meta))


def read_metas(store: FilesystemStore, export_id: str) -> list[SegmentMeta]:
    keys = [k for k in store.list(f"{export_id}/segments") if k.endswith(".meta.json")]
    return [msgspec.json.decode(store.get(k), type=SegmentMeta) for k in keys]


def write_manifest(store: FilesystemStore, manifest: Manifest) -> None:
    store.put(manifest_key(manifest.export_id), msgspec.json.format(_json.encode(manifest)))


def read_manifest(store: FilesystemStore, export_id: str) -> Manifest:
    return msgspec.json.decode(store.get(manifest_key(export_id)), type=Manifest)


class VerifyReport(msgspec.Struct, kw_only=True):
    export_id: str
    segments: int
    records: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_export(store: FilesystemStore, export_id: str) -> VerifyReport:
    """Re-read every object of an export and check it against the manifest."""
    manifest = read_manifest(store, export_id)
    problems: list[str] = []
    records = 0
    for seg in manifest.segments:
        try:
            data = store.get(seg.key)
        except Exception as exc:
            problems.append(f"{seg.key}: {exc}")
            continue
        if sha256_hex(data) != seg.sha256:
            problems.append(f"{seg.key}: SHA-256 differs from the manifest")
            continue
        if len(data) != seg.bytes:
            problems.append(f"{seg.key}: size {len(data)} differs from the manifest's {seg.bytes}")
        try:
            count = len(decode_segment(data))
        except (zstandard.ZstdError, msgspec.DecodeError) as exc:
            problems.append(f"{seg.key}: cannot be decoded: {exc}")
            continue
        if count != seg.records:
            problems.append(f"{seg.key}: {count} records, the manifest says {seg.records}")
        records += count
    if records != manifest.records and not problems:
        problems.append(f"{records} records in segments, the manifest says {manifest.records}")
    listed = {s.key for s in manifest.segments}
    on_disk = {k for k in store.list(f"{export_id}/segments") if k.endswith(".zst")}
    for extra in sorted(on_disk - listed):
        problems.append(f"{extra}: in the archive but not in the manifest")
    return VerifyReport(export_id=export_id, segments=len(manifest.segments), records=records, problems=problems)
