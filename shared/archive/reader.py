"""Reading an export back: its segments' bytes, decrypted when the export is encrypted, and their records;
and `verify_export`, which checks the manifest is authentic and whole, then re-reads every object of the
export and checks it against the manifest. Used by `archive verify`, the `subject` commands and the tests;
nothing else needs the master key."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import msgspec

from shared.archive.encryption import DataKey, is_sealed
from shared.archive.keystore import KeyStore
from shared.archive.manifest import Manifest, ManifestNotAuthentic, ManifestTrust, read_failure, read_manifest
from shared.archive.parquet_records import FileKeys, decode_parquet, file_keys
from shared.archive.segments import (
    SegmentMeta,
    decode_segment,
    dictionary_key,
    manifest_key,
    page_parts,
    read_dictionaries,
    records_key,
    segment_key,
    sha256_hex,
    subjects_key,
)
from shared.archive.storage import ObjectMissing, ObjectStore
from shared.errors import ArchiverError, DataKeyMissing, SegmentError


class ExportReader:
    def __init__(self, store: ObjectStore, manifest: Manifest, keys: KeyStore | None) -> None:
        self.store = store
        self.manifest = manifest
        self.keys = keys
        self._dictionaries: dict[int, bytes] | None = None
        self._data_key: DataKey | None = None

    @classmethod
    async def open(cls, store: ObjectStore, export_id: str, keys: KeyStore | None) -> ExportReader:
        return cls(store, await read_manifest(store, export_id), keys)

    @property
    def encrypted(self) -> bool:
        return self.manifest.encryption is not None

    async def data_key(self) -> DataKey:
        """The data key the manifest names."""
        if self._data_key is None:
            encryption = self.manifest.encryption
            if self.keys is None or encryption is None:
                raise SegmentError(f"export {self.manifest.export_id}: not encrypted, or no key store is open")
            key = await self.keys.data_key(self.manifest.export_id, generation=encryption.generation)
            if key.key_id != encryption.data_key_id:
                raise DataKeyMissing(f"export {self.manifest.export_id}: the key store holds data key {key.key_id!r}"
                                     f", the manifest names {encryption.data_key_id!r}")
            self._data_key = key
        return self._data_key

    async def frame(self, segment: SegmentMeta, stored: bytes | None = None) -> bytes:
        """The segment's zstd frame: `stored` (or the object) opened with the data key if it is sealed,
        checked against the plaintext hash the metadata records."""
        data = await self.store.get(segment.key) if stored is None else stored
        if segment.encryption is None:
            if is_sealed(data):
                raise SegmentError(f"{segment.key}: encrypted, but its metadata says it is not")
            return data
        frame = (await self.data_key()).open(data, segment.key)
        if sha256_hex(frame) != segment.encryption.plain_sha256:
            raise SegmentError(f"{segment.key}: decrypted SHA-256 differs from the manifest")
        return frame

    async def dictionaries(self) -> dict[int, bytes]:
        if self._dictionaries is None:
            self._dictionaries = await read_dictionaries(self.store, [d.key for d in self.manifest.dictionaries])
        return self._dictionaries

    async def file_keys(self, segment: SegmentMeta) -> FileKeys | None:
        """What opens a Parquet file encrypted with the export's data key (None: the file is plain)."""
        if segment.encryption is None:
            return None
        return file_keys(await self.data_key(), segment.encryption.master_key_id)

    async def records(self, segment: SegmentMeta, stored: bytes | None = None) -> list[dict[str, Any]]:
        if segment.format == "parquet":
            data = await self.store.get(segment.key) if stored is None else stored
            return await asyncio.to_thread(decode_parquet, data, keys=await self.file_keys(segment))
        return decode_segment(await self.frame(segment, stored), segment.format, await self.dictionaries())

    async def all_records(self) -> list[dict[str, Any]]:
        return [r for segment in self.manifest.segments for r in await self.records(segment)]


async def read_export_records(store: ObjectStore, export_id: str, keys: KeyStore | None = None,
                              ) -> list[dict[str, Any]]:
    """Every archived record of an export, in manifest order."""
    return await (await ExportReader.open(store, export_id, keys)).all_records()


class VerifyReport(msgspec.Struct, kw_only=True):
    export_id: str
    segments: int
    records: int
    problems: list[str]
    encrypted: bool = False
    plaintext_checked: bool = True  # False: encrypted and no master key, so only the stored bytes were checked
    authenticity: str = "not checked"  # what vouches for the manifest (see ManifestTrust)
    authenticated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_export(store: ObjectStore, export_id: str, keys: KeyStore | None = None,
                        trust: ManifestTrust | None = None) -> VerifyReport:
    """Check that the manifest is authentic (with `trust`) and whole (every page once, every object this
    export's), then re-read every object of the export and check hashes, sizes and record counts against
    it; objects missing from the archive, or in it but not in the manifest, are problems too. An encrypted
    export is checked over its stored (sealed) bytes, and, when `keys` can unwrap its data key, decrypted
    and checked over the plaintext and its records too."""
    report = VerifyReport(export_id=export_id, segments=0, records=0, problems=[])
    try:
        data = await store.get(manifest_key(export_id))
    except ObjectMissing:
        failure = await read_failure(store, export_id)
        why = f"the export failed: {failure.message}" if failure else "the export is not complete (or unknown)"
        report.problems.append(f"no manifest: {why}")
        return report
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except msgspec.DecodeError as exc:
        report.problems.append(f"manifest: not a manifest ({exc})")
        return report
    if trust is not None:
        try:
            authenticity = trust.check(export_id, data)
            report.authenticity, report.authenticated = authenticity.how, authenticity.authenticated
        except ManifestNotAuthentic as exc:
            report.authenticity = f"not authentic: {exc.message}"
            report.problems.append(f"manifest: not authentic: {exc.message}")
    report.problems.extend(layout_problems(export_id, manifest))
    reader = ExportReader(store, manifest, keys)
    report.segments = len(manifest.segments)
    report.encrypted = reader.encrypted
    report.plaintext_checked = not reader.encrypted or (keys is not None and keys.wrapper is not None)
    for ref in manifest.dictionaries:
        await _checked(store, ref.key, ref.sha256, ref.bytes, report.problems)
    if manifest.subject_index is not None:
        index = manifest.subject_index
        await _checked(store, index.key, index.sha256, index.bytes, report.problems)
    for seg in manifest.segments:
        stored = await _checked(store, seg.key, seg.sha256, seg.bytes, report.problems)
        if stored is None or not report.plaintext_checked:
            continue
        try:
            count = len(await reader.records(seg, stored))
        except SegmentError as exc:
            report.problems.append(f"{seg.key}: cannot be decoded: {exc}")
            continue
        except ArchiverError as exc:  # the data key is missing or cannot be unwrapped: no segment will open
            report.problems.append(f"{seg.key}: cannot be decrypted: {exc}")
            break
        if count != seg.records:
            report.problems.append(f"{seg.key}: {count} records, the manifest says {seg.records}")
        report.records += count
    if not report.plaintext_checked:
        report.records = sum(s.records for s in manifest.segments)
    if report.records != manifest.records and not report.problems:
        report.problems.append(f"{report.records} records in segments, the manifest says {manifest.records}")
    listed = {s.key for s in manifest.segments} | {d.key for d in manifest.dictionaries}
    listed |= {manifest.subject_index.key} if manifest.subject_index else set()
    objects = [k for k in await store.keys(export_id) if k.endswith((".zst", ".parquet", ".zdict", ".idx"))]
    report.problems.extend(f"{extra}: in the archive but not in the manifest" for extra in objects
                           if extra not in listed)
    return report


def layout_problems(export_id: str, manifest: Manifest) -> list[str]:
    """What makes a manifest not this export's whole manifest, whatever vouches for it: each page index
    below `total_pages` is in exactly one segment or listed dead, and every object it names is one of this
    export's (keyed by its export id, and a segment by its own page's source offset)."""
    problems = []
    if manifest.export_id != export_id:
        problems.append(f"manifest: names export {manifest.export_id!r}, not {export_id!r}")
    # A Parquet page whose records fall on two dates is in two files, one per date.
    parts = Counter((p.page_index, s.conversation_date) for s in manifest.segments for p in page_parts(s))
    pages = Counter(page for page, _ in parts)
    expected = set(range(max(manifest.total_pages, 0)))
    if manifest.total_pages < 0:
        problems.append(f"manifest: total_pages is {manifest.total_pages}")
    missing = sorted(expected - set(pages) - set(manifest.dead_pages))
    if missing:
        problems.append(f"manifest: {len(missing)} of its {manifest.total_pages} pages are in no segment and not "
                        f"listed dead: {_pages(missing)}")
    beyond = sorted((set(pages) | set(manifest.dead_pages)) - expected)
    if beyond:
        problems.append(f"manifest: pages {_pages(beyond)} are beyond its total of {manifest.total_pages}")
    twice = sorted({p for (p, _), n in parts.items() if n > 1})
    if twice:
        problems.append(f"manifest: pages {_pages(twice)} are in more than one segment")
    revisions = range(len(manifest.erasures) + 1)
    for s in manifest.segments:
        own = {own_key(export_id, s, n) for n in revisions}
        if s.key not in own:
            problems.append(f"{s.key}: not the object of this export's page {s.page_index} "
                            f"({s.source_topic}+{s.source_partition}+{s.source_offset})")
    problems.extend(f"{d.key}: not this export's dictionary {d.dictionary_id}" for d in manifest.dictionaries
                    if d.key != dictionary_key(export_id, d.dictionary_id))
    index = manifest.subject_index
    if index is not None and index.key not in {subjects_key(export_id, n) for n in revisions}:
        problems.append(f"{index.key}: not this export's subject index")
    return problems


def own_key(export_id: str, segment: SegmentMeta, erasure: int = 0) -> str:
    """The key a segment of this export has after its `erasure`-th rewrite (0: as archived)."""
    if segment.format == "parquet":
        return records_key(export_id, segment.conversation_date, segment.source_topic, segment.source_partition,
                           segment.source_offset, erasure, segment.compacted)
    return segment_key(export_id, segment.source_topic, segment.source_partition, segment.source_offset,
                       segment.format, erasure)


def _pages(pages: list[int], shown: int = 10) -> str:
    return ", ".join(map(str, pages[:shown])) + (f" and {len(pages) - shown} more" if len(pages) > shown else "")


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
