"""An export's manifest, built from the segment metadata in the archive and the notifier's count of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.manifest import DictionaryRef, Manifest, offset_ranges, write_manifest
from shared.messages import NotifierState
from shared.segments import SegmentMeta, dictionary_key, read_metas, sha256_hex
from shared.storage import ObjectStore
from stages.notifier.page_ranges import has_page


async def write_export_manifest(store: ObjectStore, state: NotifierState, completed_at: datetime,
                                ) -> tuple[Manifest, bytes]:
    """Write the manifest of a counted-complete export; returns it and its exact bytes. `completed_at`
    comes from the input, so a replay writes the same bytes."""
    by_page: dict[int, SegmentMeta] = {}
    for meta in await read_metas(store, state.export_id):
        # A page archived twice (only possible if it was published twice upstream) keeps its first copy.
        known = by_page.get(meta.page_index)
        if has_page(state.archived_pages, meta.page_index) and (
                known is None or meta.source_offset < known.source_offset):
            by_page[meta.page_index] = meta
    segments = [by_page[p] for p in sorted(by_page)]
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
        pii_rules=options.pii_rules if options else [], dictionaries=dictionaries, segments=segments,
        offset_ranges=offset_ranges(segments), retention_days=retention,
        expires_at=completed_at + timedelta(days=retention) if retention else None,
        started_at=state.started_at, completed_at=completed_at)
    return manifest, await write_manifest(store, manifest)
