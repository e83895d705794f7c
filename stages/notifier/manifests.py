"""An export's manifest, built from the segment metadata in the archive and the notifier's count of it, and
the export's subject index, merged from the entries each segment's metadata carries."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from shared.archive.compaction import compact_export
from shared.archive.keystore import KeyStore
from shared.archive.manifest import (
    DictionaryRef,
    EncryptionRef,
    IndexRef,
    Manifest,
    ManifestSeal,
    offset_ranges,
    write_manifest,
)
from shared.archive.segments import SegmentMeta, dictionary_key, page_parts, read_metas, sha256_hex, subjects_key
from shared.archive.storage import ObjectStore
from shared.archive.subject_index import build_index, entry_count
from stages.notifier.changelog import NotifierState
from stages.notifier.page_ranges import has_page


async def write_export_manifest(store: ObjectStore, state: NotifierState, completed_at: datetime,
                                seal: ManifestSeal, keys: KeyStore | None = None,
                                row_group_records: int = 100_000) -> tuple[Manifest, bytes]:
    """Write the manifest of a counted-complete export, sealed; returns it and its exact bytes.
    `completed_at` comes from the input, so a replay writes the same bytes."""
    # Small Parquet files merged first (shared/archive/compaction.py); the ones they replace go after the manifest.
    compaction = await compact_export(store, keys, state.export_id,
                                      counted_segments(await read_metas(store, state.export_id), state),
                                      row_group_records)
    segments = compaction.segments
    index = await write_index(store, subjects_key(state.export_id), build_index([s.subjects for s in segments]))
    dictionaries = []
    for dictionary in sorted({s.dictionary_id for s in segments if s.dictionary_id}):
        key = dictionary_key(state.export_id, dictionary)
        data = await store.get(key)
        dictionaries.append(DictionaryRef(key=key, dictionary_id=dictionary, sha256=sha256_hex(data),
                                          bytes=len(data)))
    options = state.options
    retention = options.retention_days if options else None
    manifest = Manifest(
        export_id=state.export_id, format=options.output_format if options else "jsonl",
        total_pages=state.total_pages or 0, records=sum(s.records for s in segments),
        bytes=sum(s.bytes for s in segments), partial=bool(state.dead_pages) or state.rejected_records > 0,
        dead_pages=sorted(state.dead_pages), rejected_records=state.rejected_records,
        redactions=state.redactions, key_ids=sorted({s.key_id for s in segments}),
        pii_rules=options.pii_rules if options else [], dictionaries=dictionaries,
        segments=[without_subjects(s) for s in segments],
        offset_ranges=offset_ranges(segments), retention_days=retention,
        expires_at=completed_at + timedelta(days=retention) if retention else None,
        started_at=state.started_at, completed_at=completed_at, encryption=encryption_ref(segments),
        subject_index=index)
    data = await write_manifest(store, manifest, seal)
    await store.delete(compaction.obsolete_keys)
    return manifest, data


def counted_segments(metas: list[SegmentMeta], state: NotifierState) -> list[SegmentMeta]:
    """The segments that hold the pages the notifier counted, in page order. A page archived twice (only
    possible if it was published twice upstream) keeps its first copy (the one read at the lowest offset)."""
    first: dict[int, int] = {}
    for meta in metas:
        for part in page_parts(meta):
            known = first.get(part.page_index)
            if has_page(state.archived_pages, part.page_index) and (known is None or part.source_offset < known):
                first[part.page_index] = part.source_offset
    kept = [m for m in metas if any(first.get(p.page_index) == p.source_offset for p in page_parts(m))]
    return sorted(kept, key=lambda m: (min(p.page_index for p in page_parts(m)), m.key))


async def write_index(store: ObjectStore, key: str, data: bytes) -> IndexRef:
    await store.put(key, data)
    return IndexRef(key=key, sha256=sha256_hex(data), bytes=len(data), entries=entry_count(data))


def without_subjects(segment: SegmentMeta) -> SegmentMeta:
    """The manifest's copy: the index entries live in the export index, not twice in the manifest."""
    return msgspec.structs.replace(segment, subjects="")


def encryption_ref(segments: list[SegmentMeta]) -> EncryptionRef | None:
    """The export's data key, if any segment is sealed. One export has one data key (the key store makes
    it once); segments archived before encryption was switched on stay readable as they are."""
    for s in segments:
        if s.encryption is not None:
            return EncryptionRef(algorithm=s.encryption.algorithm, data_key_id=s.encryption.data_key_id,
                                 master_key_id=s.encryption.master_key_id)
    return None
