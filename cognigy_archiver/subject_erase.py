"""`subject erase`: remove a data subject's records from every export that holds them.

Per affected export, in an order that a crash at any point leaves readable and the next run finishes:
1. the audit entry (what will be removed: counts and segment keys, never the values);
2. each affected segment rewritten without those records under a new key (`.e<n>.`, n = this export's
   erasure number), sealed with the export's data key if it is encrypted, with its metadata;
3. the subject index rewritten (`subjects.e<n>.idx`) with those segments' entries replaced;
4. the manifest, in one atomic write: the new segment keys, hashes, counts, index, and the erasure;
5. the old segments, their metadata and the old index deleted.
Everything not affected stays byte-identical. Objects an interrupted run left behind (steps 2-3 without
4, or 4 without 5) are removed by the next run (`sweep_leftovers`), before anything else; a second erase
of the same person finds nothing and changes nothing.

Removing a record from a segment cannot remove it from backups taken before; for an encrypted export,
those copies stay readable until the export expires and its data key is destroyed.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import msgspec

from cognigy_archiver.subject_search import ExportHits, Search
from shared.audit import STORAGE_FOLDER, AuditLog
from shared.manifest import Erasure, Manifest, offset_ranges, read_manifest, write_manifest
from shared.segments import (
    SegmentMeta,
    encode_segment,
    meta_key,
    segment_key,
    sha256_hex,
    subjects_key,
    write_meta,
)
from shared.storage import ObjectMissing, ObjectStore
from shared.subject_index import replace_segments, segment_entries
from stages.notifier.manifests import without_subjects, write_index

_PAGE = re.compile(r"(.*/segments/.*\+\d+\+\d{20})\.")


class ErasedExport(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    records: int
    segments: list[str]  # the new keys of the rewritten segments


async def erase_subject(store: ObjectStore, audit: AuditLog, search: Search, request: str, reason: str,
                        whole_conversation: bool, now: datetime | None = None) -> list[ErasedExport]:
    """Erase what `search` found (run it right before, on the same archive)."""
    at = now or datetime.now(UTC)
    erased = []
    for hits in search.exports:
        erased.append(await _erase_in_export(store, audit, hits, request, reason, whole_conversation, at))
    if not erased:
        await audit.append(f"erase:{request}:{at.isoformat()}", "subject erase: nothing held", "", {
            "request": request, "reason": reason, "whole_conversation": whole_conversation,
            "exports_searched": search.searched}, at=at)
    return erased


async def _erase_in_export(store: ObjectStore, audit: AuditLog, hits: ExportHits, request: str, reason: str,
                           whole_conversation: bool, at: datetime) -> ErasedExport:
    manifest = hits.manifest
    erasure = len(manifest.erasures) + 1
    positions = sorted(hits.records)
    removed = sum(len(hits.records[p]) for p in positions)
    await audit.append(f"erase:{request}:{manifest.export_id}:{erasure}", "subject records erased",
                       manifest.export_id, {
                           "request": request, "reason": reason, "whole_conversation": whole_conversation,
                           "erasure": erasure, "records": removed,
                           "segments": [manifest.segments[p].key for p in positions]}, at=at)
    rewritten = {p: await _rewrite(hits, p, erasure) for p in positions}
    assert manifest.subject_index is not None  # the search found these records through it
    old_index = await store.get(manifest.subject_index.key)
    index = await write_index(store, subjects_key(manifest.export_id, erasure),
                              replace_segments(old_index, {p: s.subjects for p, s in rewritten.items()}))
    segments = [without_subjects(rewritten[p]) if p in rewritten else s for p, s in enumerate(manifest.segments)]
    new_keys = [rewritten[p].key for p in positions]
    encrypted = next((s.encryption for s in rewritten.values() if s.encryption), None)
    updated = msgspec.structs.replace(
        manifest, segments=segments, records=sum(s.records for s in segments), bytes=sum(s.bytes for s in segments),
        offset_ranges=offset_ranges(segments), subject_index=index,
        encryption=msgspec.structs.replace(manifest.encryption, master_key_id=encrypted.master_key_id)
        if manifest.encryption and encrypted else manifest.encryption,
        erasures=[*manifest.erasures, Erasure(erasure_id=f"{request}:{erasure}", at=at, records=removed,
                                              segments=new_keys)])
    await write_manifest(store, updated)
    await sweep_leftovers(store, updated)
    return ErasedExport(export_id=manifest.export_id, records=removed, segments=new_keys)


async def _rewrite(hits: ExportHits, position: int, erasure: int) -> SegmentMeta:
    """The segment without the subject's records, stored under its erasure key, with its metadata."""
    reader = hits.reader
    old = reader.manifest.segments[position]
    records = await reader.records(old)
    keep = [r for n, r in enumerate(records) if n not in hits.records[position]]
    dictionary = (await reader.dictionaries()).get(old.dictionary_id) if old.dictionary_id else None
    frame = await asyncio.to_thread(encode_segment, keep, old.format, dictionary)
    key = segment_key(reader.manifest.export_id, old.source_topic, old.source_partition, old.source_offset,
                      old.format, erasure)
    data, encryption = (await reader.seal(frame, key)) if old.encryption is not None else (frame, None)
    meta = msgspec.structs.replace(old, key=key, sha256=sha256_hex(data), bytes=len(data), records=len(keep),
                                   encryption=encryption, subjects=segment_entries(keep))
    await reader.store.put(key, data)
    await write_meta(reader.store, meta)
    return meta


async def sweep_leftovers(store: ObjectStore, manifest: Manifest) -> list[str]:
    """Delete the segments, metadata and indexes of a complete export that its manifest no longer names
    because an erasure replaced them (or wrote them and was interrupted); returns their keys."""
    export_id = manifest.export_id
    kept = {s.key for s in manifest.segments} | {meta_key(s.key) for s in manifest.segments}
    kept |= {manifest.subject_index.key} if manifest.subject_index else set()
    pages = {_page(s.key) for s in manifest.segments}
    leftovers = [k for k in await store.keys(f"{export_id}/segments")
                 if k not in kept and _page(k) in pages and k.endswith((".zst", ".meta.json"))]
    leftovers += [k for k in await store.keys(export_id)
                  if k.startswith(f"{export_id}/subjects") and k.endswith(".idx") and k not in kept]
    await store.delete(leftovers)
    return leftovers


async def sweep_all(store: ObjectStore) -> int:
    """`sweep_leftovers` over every complete export; returns how many objects went."""
    count = 0
    for export_id in await store.folders():
        if export_id == STORAGE_FOLDER:
            continue
        try:
            manifest = await read_manifest(store, export_id)
        except ObjectMissing:
            continue  # still being archived: its objects are not ours to judge
        count += len(await sweep_leftovers(store, manifest))
    return count


def _page(key: str) -> str:
    """The page a segment or metadata key belongs to: `<export>/segments/<topic>+<partition>+<offset>`."""
    match = _PAGE.match(key)
    return match.group(1) if match else key
