"""`subject find` and `subject export`: where a data subject's records are, across every complete export.

The subject index of each export answers which records may hold a probe's key; each candidate record is
then read (decrypted if need be) and the probe confirmed in it, so a 64-bit key collision can never show,
export or erase a stranger's record. With `whole_conversation`, the session ids of the confirmed records
become probes too, and every record of those sessions is found, in whatever export it sits.

A search is only as good as its key: the tokens of a key other than the one the export was tokenized
with match nothing. Each segment records the check value of the key it was tokenized with
(shared/archive/key_check.py), and a key that is not that one, under the same key id, is an error (WrongKey), never
an empty result. Manifests that are not authentic (shared/archive/manifest.py) are not searched: their exports are
named, with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import msgspec

from cognigy_archiver.subject_identifiers import Probe
from shared.archive.key_check import WrongKey
from shared.archive.keystore import KeyStore
from shared.archive.manifest import Manifest, ManifestTrust, complete_exports, read_manifest
from shared.archive.reader import ExportReader
from shared.archive.storage import ObjectStore
from shared.archive.subject_index import lookup, record_tokens
from shared.settings import env_name

PARALLEL_EXPORTS = 16  # S3 answers each ranged read in tens of ms: look into many exports at once


class Location(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    segment: str
    record: int  # position in the segment
    record_id: str | None
    timestamp: str | None
    session_id: str | None
    matched: list[str]  # request labels ("email 1") or "conversation" for records found by session


class Skipped(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    reason: str


class ExportHits(msgspec.Struct, kw_only=True):
    """An export's confirmed records for the request, by segment position then record position."""

    reader: ExportReader
    records: dict[int, dict[int, tuple[dict[str, Any], set[str]]]]

    @property
    def manifest(self) -> Manifest:
        return self.reader.manifest

    def locations(self) -> list[Location]:
        out = []
        for position, records in sorted(self.records.items()):
            segment = self.manifest.segments[position].key
            for number, (record, labels) in sorted(records.items()):
                out.append(Location(export_id=self.manifest.export_id, segment=segment, record=number,
                                    record_id=_text(record.get("id")), timestamp=_text(record.get("timestamp")),
                                    session_id=_text(record.get("sessionId")), matched=sorted(labels)))
        return out


class Search(msgspec.Struct, kw_only=True):
    exports: list[ExportHits]
    searched: int  # complete exports looked into
    skipped: list[Skipped]
    key_unchecked: list[str] = []  # searched exports archived before key check values: a wrong key cannot show

    def locations(self) -> list[Location]:
        return [location for hits in self.exports for location in hits.locations()]

    @property
    def record_count(self) -> int:
        return sum(len(records) for hits in self.exports for records in hits.records.values())


async def find_subject(store: ObjectStore, keys: KeyStore, probes: list[Probe], key_id: str,
                       whole_conversation: bool = False, *, key_check: str = "",
                       trust: ManifestTrust | None = None) -> Search:
    """The request's records in every complete export tokenized with `key_id`. With `key_check` (the
    check value of the key the probes were made with), an export tokenized with another key under that id
    is a WrongKey error; with `trust`, exports whose manifest is not authentic are skipped."""
    manifests, skipped = await _searchable(store, key_id, trust)
    unchecked = _check_key(manifests, key_id, key_check) if key_check else []
    readers = {m.export_id: ExportReader(store, m, keys) for m in manifests}
    hits = await _confirmed(readers, probes)
    if whole_conversation:
        sessions = {s for h in hits.values() for records in h.records.values() for record, _ in records.values()
                    if isinstance(s := record.get("sessionId"), str)}
        more = await _confirmed(readers, [Probe("sessionId", s, "conversation") for s in sorted(sessions)])
        for export_id, extra in more.items():
            target = hits.setdefault(export_id, ExportHits(reader=readers[export_id], records={}))
            for position, records in extra.records.items():
                for number, found in records.items():  # a record found by the request keeps its labels
                    target.records.setdefault(position, {}).setdefault(number, found)
    return Search(exports=[hits[e] for e in sorted(hits)], searched=len(manifests), skipped=skipped,
                  key_unchecked=unchecked)


def _check_key(manifests: list[Manifest], key_id: str, key_check: str) -> list[str]:
    """The exports whose segments carry no key check value for `key_id` (archived before there were any);
    WrongKey if a segment tokenized under `key_id` names another key than `key_check`."""
    unchecked = []
    for manifest in manifests:
        checks = {s.key_check for s in manifest.segments if s.key_id == key_id}
        if checks - {key_check, ""}:
            raise WrongKey(f"{env_name('pii.tokenization_key')} is not the tokenization key {key_id!r} that export "
                           f"{manifest.export_id} was tokenized with (their key check values differ): no token made "
                           f"with it can match. Set the key {key_id!r} names, or the id of this key "
                           f"({env_name('pii.tokenization_key_id')})")
        if "" in checks:
            unchecked.append(manifest.export_id)
    return unchecked


async def _searchable(store: ObjectStore, key_id: str, trust: ManifestTrust | None,
                            ) -> tuple[list[Manifest], list[Skipped]]:
    """The manifests of the exports a search can cover; the others, with the reason."""
    manifests: list[Manifest] = []
    skipped: list[Skipped] = []
    async for folder in complete_exports(store, trust.manifest if trust else read_manifest):
        export_id, manifest = folder.export_id, folder.manifest
        if folder.refused:
            skipped.append(Skipped(export_id=export_id, reason=f"its manifest is not authentic ("
                                   f"{folder.refused.message}): not searched; run `cognigy-archiver archive verify "
                                   f"{export_id}`"))
            continue
        if manifest is None:
            skipped.append(Skipped(export_id=export_id, reason="not complete (no manifest yet)"))
            continue
        if manifest.subject_index is None:
            skipped.append(Skipped(export_id=export_id, reason="archived without a subject index"))
            continue
        if manifest.key_ids and key_id not in manifest.key_ids:
            # Every token in it, contact ids included, was made with another key: none can be computed here.
            skipped.append(Skipped(export_id=export_id, reason=f"tokenized with key id(s) "
                                   f"{', '.join(manifest.key_ids)}, not {key_id}: not searched (run with that key)"))
            continue
        if len(manifest.key_ids) > 1:
            skipped.append(Skipped(export_id=export_id, reason=f"partly tokenized with key id(s) "
                                   f"{', '.join(k for k in manifest.key_ids if k != key_id)}: those pages are not "
                                   "searched (run with that key too)"))
        manifests.append(manifest)
    return manifests, skipped


async def _confirmed(readers: dict[str, ExportReader], probes: Iterable[Probe]) -> dict[str, ExportHits]:
    by_key: dict[int, list[Probe]] = {}
    for probe in probes:
        by_key.setdefault(probe.key, []).append(probe)
    if not by_key:
        return {}
    limit = asyncio.Semaphore(PARALLEL_EXPORTS)

    async def one(reader: ExportReader) -> ExportHits | None:
        async with limit:
            return await _export_hits(reader, by_key)

    found = await asyncio.gather(*(one(r) for r in readers.values()))
    return {h.manifest.export_id: h for h in found if h is not None}


async def _export_hits(reader: ExportReader, by_key: dict[int, list[Probe]]) -> ExportHits | None:
    index = reader.manifest.subject_index
    assert index is not None  # _searchable keeps only indexed exports
    candidates: dict[int, dict[int, list[Probe]]] = {}
    for key, postings in (await lookup(reader.store, index.key, by_key)).items():
        for position, number in postings:
            candidates.setdefault(position, {}).setdefault(number, []).extend(by_key[key])
    hits = ExportHits(reader=reader, records={})
    for position, numbers in sorted(candidates.items()):
        records = await reader.records(reader.manifest.segments[position])
        for number, wanted in numbers.items():
            record = records[number]
            labels = {p.label for p in wanted if _holds(record, p)}
            if labels:
                hits.records.setdefault(position, {})[number] = (record, labels)
    return hits if hits.records else None


def _holds(record: dict[str, Any], probe: Probe) -> bool:
    if probe.kind == "token":
        return probe.value in record_tokens(record)
    return record.get(probe.kind) == probe.value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
