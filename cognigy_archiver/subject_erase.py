"""`subject erase`: remove a data subject's records from every export that holds them.

Per affected export, in an order that a crash at any point leaves readable and the next run finishes:
1. the audit entry (what will be removed: counts and segment keys, never the values);
2. each affected segment rewritten without those records under a new key (`.e<n>.`, n = this export's
   erasure number), sealed with the export's data key if it is encrypted, with its metadata;
3. the subject index rewritten (`subjects.e<n>.idx`) with those segments' entries replaced;
4. the manifest, sealed, in one atomic write: the new segment keys, hashes, counts, index, and the erasure;
   then its SHA-256 recorded in the audit log (`manifest rewritten`: see shared/archive/manifest.py);
5. the old segments, their metadata and the old index deleted.
Everything not affected stays byte-identical. Objects an interrupted run left behind (steps 2-3 without
4, or 4 without 5) are removed by the next run (`sweep_all`), before anything else, and a manifest written
without its record is recorded then (the step-1 entry shows the erasure was under way); a second erase of
the same person finds nothing and changes nothing. Only authentic manifests are acted on.

Removing a record from a segment cannot remove it from backups taken before. For an encrypted export,
`rekey` re-seals every segment under a new data key (a new generation in the key store), writes the
manifest, then destroys the old key: the erased records in any earlier copy can no longer be decrypted.
Without it, those copies stay readable until the export expires and its data key is destroyed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import msgspec

from cognigy_archiver.subject_search import ExportHits, Search
from shared.archive.audit import AuditLog
from shared.archive.encryption import DataKey
from shared.archive.keystore import KeyStore
from shared.archive.manifest import (
    MANIFEST_VERSION,
    EncryptionRef,
    Erasure,
    Manifest,
    ManifestNotAuthentic,
    ManifestSeal,
    ManifestTrust,
    complete_exports,
    manifest_record,
    offset_ranges,
    read_manifest,
    write_manifest,
)
from shared.archive.reader import ExportReader, own_key
from shared.archive.segments import (
    PagePart,
    SegmentEncryption,
    SegmentMeta,
    encode_parquet_file,
    encode_segment,
    manifest_key,
    meta_key,
    read_meta,
    seal_segment,
    sha256_hex,
    subjects_key,
    write_meta,
)
from shared.archive.storage import ObjectStore
from shared.archive.subject_index import replace_segments, segment_entries
from stages.notifier.manifests import without_subjects, write_index

if TYPE_CHECKING:  # pyiceberg is an optional extra
    from shared.archive.iceberg_table import ArchiveTable

log = logging.getLogger(__name__)
_PAGE = re.compile(r"(.*/segments/.*\+\d+\+\d{20})\.")
_PARQUET_FILE = re.compile(r"(.*)/records/conversation_date=([^/]+)/(.*\+\d+\+\d{20})\.")


class ErasedExport(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    records: int
    segments: list[str]  # the new keys of the rewritten segments


async def erase_subject(store: ObjectStore, audit: AuditLog, search: Search, request: str, reason: str,
                        whole_conversation: bool, rekey: bool = False, now: datetime | None = None,
                        table: ArchiveTable | None = None) -> list[ErasedExport]:
    """Erase what `search` found (run it right before, on the same archive). With `rekey`, each changed
    encrypted export is re-sealed whole under a new data key and the old key destroyed, so copies of the
    erased records in backups can no longer be decrypted. With the Iceberg `table`, the rewritten files
    replace the old ones there (one commit) before the old ones are deleted."""
    at = now or datetime.now(UTC)
    erased = []
    for hits in search.exports:
        erased.append(await _erase_in_export(store, audit, hits, request, reason, whole_conversation, rekey, at,
                                             table))
    if not erased:
        await audit.append(f"erase:{request}:{at.isoformat()}", "subject erase: nothing held", "", {
            "request": request, "reason": reason, "whole_conversation": whole_conversation,
            "exports_searched": search.searched}, at=at)
    return erased


async def _erase_in_export(store: ObjectStore, audit: AuditLog, hits: ExportHits, request: str, reason: str,
                           whole_conversation: bool, rekey: bool, at: datetime, table: ArchiveTable | None,
                           ) -> ErasedExport:
    manifest = hits.manifest
    export_id = manifest.export_id
    erasure = len(manifest.erasures) + 1
    positions = sorted(hits.records)
    removed = sum(len(hits.records[p]) for p in positions)
    rekey = rekey and manifest.encryption is not None
    await audit.append(f"erase:{request}:{export_id}:{erasure}", "subject records erased", export_id, {
        "request": request, "reason": reason, "whole_conversation": whole_conversation, "erasure": erasure,
        "records": removed, "rekey": rekey, "segments": [manifest.segments[p].key for p in positions]}, at=at)
    target = await _target(hits.reader, erasure if rekey else None)
    # Re-keying re-seals every segment (their records unchanged); otherwise only the changed ones are written.
    rewrite = range(len(manifest.segments)) if rekey else positions
    rewritten = {p: await _rewrite(hits.reader, p, set(hits.records.get(p, {})), erasure, target) for p in rewrite}
    assert manifest.subject_index is not None  # the search found these records through it
    old_index = await store.get(manifest.subject_index.key)
    index = await write_index(store, subjects_key(export_id, erasure),
                              replace_segments(old_index, {p: rewritten[p].subjects for p in positions}))
    segments = [without_subjects(rewritten[p]) if p in rewritten else s for p, s in enumerate(manifest.segments)]
    new_keys = [rewritten[p].key for p in positions]
    updated = msgspec.structs.replace(
        manifest, segments=segments, records=sum(s.records for s in segments), bytes=sum(s.bytes for s in segments),
        offset_ranges=offset_ranges(segments), subject_index=index,
        encryption=_encryption_ref(manifest, rewritten.values(), erasure if rekey else None),
        erasures=[*manifest.erasures, Erasure(erasure_id=f"{request}:{erasure}", at=at, records=removed,
                                              segments=new_keys)], version=MANIFEST_VERSION)
    await record_rewrite(audit, updated, await write_manifest(store, updated, ManifestSeal(audit.key)), at)
    if rekey:
        keys = hits.reader.keys
        assert keys is not None and manifest.encryption is not None  # the export is encrypted and was read
        await audit.append(f"rekeyed:{export_id}:{erasure}", "data key destroyed", export_id, {
            "reason": "re-keyed after a subject erasure", "request": request,
            "data_key_id": manifest.encryption.data_key_id}, at=at)
        await keys.destroy(export_id, keep=erasure)
    if table is not None:
        await table.commit_export(updated)
    await sweep_leftovers(store, updated)
    return ErasedExport(export_id=export_id, records=removed, segments=new_keys)


@dataclass(frozen=True)
class Target:
    """How rewritten segments are stored: plain, or under a data key of the export (its own, or a new
    generation's) wrapped by the master key `master_key_id`."""

    data_key: DataKey | None
    master_key_id: str = ""

    def seal(self, frame: bytes, key: str) -> tuple[bytes, SegmentEncryption | None]:
        if self.data_key is None:
            return frame, None
        return seal_segment(self.data_key, self.master_key_id, frame, key)


async def _target(reader: ExportReader, new_generation: int | None) -> Target:
    if reader.manifest.encryption is None:
        return Target(None)
    keys = reader.keys
    assert keys is not None and keys.wrapper is not None  # the search read this export's records
    if new_generation is None:
        return Target(await reader.data_key(), keys.wrapper.key_id)
    return Target(await keys.data_key(reader.manifest.export_id, True, new_generation), keys.wrapper.key_id)


async def _rewrite(reader: ExportReader, position: int, remove: set[int], erasure: int, target: Target,
                   ) -> SegmentMeta:
    """The segment without the records at `remove`, stored under its erasure key, with its metadata."""
    old = reader.manifest.segments[position]
    key = own_key(reader.manifest.export_id, old, erasure)
    pages = old.pages
    if old.format == "parquet":  # re-encoded even when only re-keyed: its file keys are wrapped inside it
        keep = [r for n, r in enumerate(await reader.records(old)) if n not in remove]
        data, encryption = await asyncio.to_thread(encode_parquet_file, keep, target.data_key, target.master_key_id)
        records, subjects, pages = len(keep), segment_entries(keep), _parts_kept(old, remove)
    else:
        if remove:
            keep = [r for n, r in enumerate(await reader.records(old)) if n not in remove]
            dictionary = (await reader.dictionaries()).get(old.dictionary_id) if old.dictionary_id else None
            frame = await asyncio.to_thread(encode_segment, keep, old.format, dictionary)
            records, subjects = len(keep), segment_entries(keep)
        else:  # only re-sealed: the same frame, the same index entries
            frame = await reader.frame(old)
            records, subjects = old.records, (await read_meta(reader.store, old.key)).subjects
        data, encryption = await asyncio.to_thread(target.seal, frame, key)
    meta = msgspec.structs.replace(old, key=key, sha256=sha256_hex(data), bytes=len(data), records=records,
                                   encryption=encryption, subjects=subjects, pages=pages)
    await reader.store.put(key, data)
    await write_meta(reader.store, meta)
    return meta


def _parts_kept(old: SegmentMeta, remove: set[int]) -> list[PagePart]:
    """A Parquet file's pages after the records at positions `remove` are gone (its records are its pages'
    in order)."""
    parts, start = [], 0
    for part in old.pages:
        gone = sum(1 for n in range(start, start + part.records) if n in remove)
        parts.append(msgspec.structs.replace(part, records=part.records - gone))
        start += part.records
    return parts


def _encryption_ref(manifest: Manifest, rewritten: Iterable[SegmentMeta], generation: int | None,
                    ) -> EncryptionRef | None:
    """The manifest's encryption after the rewrite: the new generation's key, or the same key now named with
    the master key that wraps it today."""
    sealed = next((s.encryption for s in rewritten if s.encryption), None)
    if manifest.encryption is None or sealed is None:
        return manifest.encryption
    return msgspec.structs.replace(manifest.encryption, master_key_id=sealed.master_key_id,
                                   data_key_id=sealed.data_key_id,
                                   generation=manifest.encryption.generation if generation is None else generation)


async def sweep_leftovers(store: ObjectStore, manifest: Manifest) -> list[str]:
    """Delete the segments, metadata and indexes of a complete export that its manifest no longer names
    because an erasure replaced them (or wrote them and was interrupted); returns their keys."""
    export_id = manifest.export_id
    kept = {s.key for s in manifest.segments} | {meta_key(s.key) for s in manifest.segments}
    kept |= {manifest.subject_index.key} if manifest.subject_index else set()
    pages = {_page(s.key) for s in manifest.segments}
    objects = [*await store.keys(f"{export_id}/segments"), *await store.keys(f"{export_id}/records")]
    leftovers = [k for k in objects
                 if k not in kept and _page(k) in pages and k.endswith((".zst", ".parquet", ".meta.json"))]
    leftovers += [k for k in await store.keys(export_id)
                  if k.startswith(f"{export_id}/subjects") and k.endswith(".idx") and k not in kept]
    await store.delete(leftovers)
    return leftovers


async def record_rewrite(audit: AuditLog, manifest: Manifest, data: bytes, at: datetime | None = None) -> None:
    """Record a manifest an erasure wrote (its SHA-256), so that only it is authentic from now on."""
    number = len(manifest.erasures)
    request = manifest.erasures[-1].erasure_id.rsplit(":", 1)[0]
    await audit.append(f"manifest:{manifest.export_id}:{number}", "manifest rewritten", manifest.export_id, {
        "request": request, "erasure": number, **manifest_record(data)}, at=at)


async def sweep_all(store: ObjectStore, keys: KeyStore, audit: AuditLog | None = None,
                    table: ArchiveTable | None = None) -> int:
    """`sweep_leftovers` over every complete export, and the data keys of encrypted ones that their manifest
    no longer names (an interrupted re-keying); returns how many objects went. With the audit log, first
    record a manifest an interrupted erasure wrote but did not record, and leave alone (and report) every
    export whose manifest is not authentic. With the Iceberg `table`, an export's files there are made its
    manifest's first (an erasure interrupted before it replaced them)."""
    count = 0
    trust = await ManifestTrust.load(audit.key, audit.path, store) if audit else None
    async for folder in complete_exports(store, partial(_authentic, trust, audit) if trust and audit else
                                         read_manifest):
        export_id, manifest = folder.export_id, folder.manifest
        if folder.refused:
            log.warning("export %s: not swept, its manifest is not authentic: %s", export_id, folder.refused.message)
        if manifest is None:
            continue  # still being archived, or not authentic: its objects are not ours to judge
        if table is not None and manifest.erasures:
            await table.commit_export(manifest)
        count += len(await sweep_leftovers(store, manifest))
        if manifest.encryption is not None:
            count += len(await keys.destroy(export_id, keep=manifest.encryption.generation))
    return count


async def _authentic(trust: ManifestTrust, audit: AuditLog, store: ObjectStore, export_id: str) -> Manifest:
    """The export's manifest, if authentic; one that an interrupted erasure wrote (sealed, its erasure's
    step-1 entry in the log) but did not record is recorded first."""
    try:
        return await trust.manifest(store, export_id)
    except ManifestNotAuthentic:
        data = await store.get(manifest_key(export_id))
        manifest = msgspec.json.decode(data, type=Manifest)
        if not (trust.seal.check(data) and manifest.erasures and await audit.knows(
                f"erase:{manifest.erasures[-1].erasure_id.rsplit(':', 1)[0]}:{export_id}:{len(manifest.erasures)}")):
            raise
        await record_rewrite(audit, manifest, data)
        return manifest


def _page(key: str) -> str:
    """The page (the file, for Parquet) a segment or metadata key belongs to, named as its metadata is:
    `<export>/segments/[<date>+]<topic>+<partition>+<offset>`."""
    parquet = _PARQUET_FILE.match(key)
    if parquet:
        return f"{parquet.group(1)}/segments/{parquet.group(2)}+{parquet.group(3)}"
    match = _PAGE.match(key)
    return match.group(1) if match else key
