"""An export's manifest: written last, when every page is in; rewritten by `subject erase`.

Authentication (version 4 on). Anyone who can write to the archive could otherwise rewrite a manifest to
match what they did to the segments, so each manifest is sealed: its last member, `hmac_sha256`, is an
HMAC-SHA256 over the manifest's exact bytes before that member, under a key derived from
`CA_AUDIT_HMAC_KEY` (the notifier and `subject erase`, which write manifests, hold it, and so must whoever
verifies). A sealed manifest can still be swapped for an older sealed one (undoing an erasure, say), so
each manifest's SHA-256 is also recorded in the audit log when it is written (`export archived`,
`manifest rewritten`), and a manifest is authentic only if it is the last one the log recorded for its
export. A manifest written before version 4 has no seal: it is authentic if the log recorded it; one the
log cannot vouch for (it was rewritten by an erasure before version 4, or the log does not reach back that
far) is reported as unauthenticated rather than refused; one the log recorded as sealed is refused (its
seal was stripped).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from shared.archive.audit import authentic_entries, derive_key, read_log
from shared.archive.segments import SegmentMeta, failure_key, manifest_key, page_parts, sha256_hex
from shared.archive.storage import ObjectMissing, ObjectStore, export_folders
from shared.errors import ArchiverError
from shared.messages import OutputFormat, PiiRule

MANIFEST_VERSION = 5  # 5: Parquet segments (SegmentMeta.pages, conversation_date)
FIRST_SEALED_VERSION = 4
MAC_MEMBER = "hmac_sha256"
_SEALED = re.compile(rb',\n  "hmac_sha256": "([0-9a-f]{64})"\n}\Z')
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


def past_retention(manifest: Manifest, now: datetime) -> bool:
    """Whether the export's retention has run out (`archive expire` deletes it unless it is on legal hold)."""
    return manifest.expires_at is not None and manifest.expires_at <= now


class ExportFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why an export failed (`<export_id>/failed.json`): it has no manifest and never will."""

    export_id: str
    error: str
    message: str
    failed_at: datetime


def offset_ranges(segments: list[SegmentMeta]) -> list[OffsetRange]:
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for s in segments:
        for part in page_parts(s):
            offset = part.source_offset
            first, last = spans.get((s.source_topic, s.source_partition), (offset, offset))
            spans[(s.source_topic, s.source_partition)] = (min(first, offset), max(last, offset))
    return [OffsetRange(topic=t, partition=p, first=f, last=la) for (t, p), (f, la) in sorted(spans.items())]


class ManifestNotAuthentic(ArchiverError):
    code = "manifest_not_authentic"


class ManifestSeal:
    """Seals manifests and checks seals (see the module docstring)."""

    def __init__(self, audit_hmac_key: bytes) -> None:
        self._key = derive_key(audit_hmac_key, "manifest")

    def encode(self, manifest: Manifest) -> bytes:
        """The manifest's bytes, sealed: the seal goes in as the last member."""
        body = msgspec.json.format(_json.encode(manifest))
        return body[:-2] + f',\n  "{MAC_MEMBER}": "{self._mac(body)}"\n}}'.encode()

    def check(self, data: bytes) -> bool | None:
        """True: the bytes carry a seal that matches them; False: a seal that does not (or a damaged
        one); None: no seal (written before version 4)."""
        match = _SEALED.search(data)
        if match is None:
            return False if f'"{MAC_MEMBER}"'.encode() in data else None
        return hmac.compare_digest(self._mac(data[:match.start()] + b"\n}"), match.group(1).decode())

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()


def manifest_record(data: bytes) -> dict[str, Any]:
    """What an audit entry says about the manifest it records: its SHA-256, and that it was sealed."""
    return {"manifest_sha256": sha256_hex(data), "manifest_version": MANIFEST_VERSION}


class ManifestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A manifest the audit log recorded."""

    seq: int
    action: str
    sha256: str
    version: int  # 0: recorded before manifests were sealed


def recorded_manifests(lines: list[bytes], audit_key: bytes) -> dict[str, list[ManifestRecord]]:
    """Every manifest the log's authentic entries record, per export, oldest first."""
    records: dict[str, list[ManifestRecord]] = {}
    for entry in authentic_entries(lines, audit_key):
        data = entry.get("data")
        if isinstance(data, dict) and isinstance(sha := data.get("manifest_sha256"), str):
            version = data.get("manifest_version")
            records.setdefault(str(entry.get("export_id")), []).append(ManifestRecord(
                seq=int(entry.get("seq", 0)), action=str(entry.get("action")), sha256=sha,
                version=version if isinstance(version, int) else 0))
    return records


class Authenticity(msgspec.Struct, frozen=True, kw_only=True):
    authenticated: bool
    how: str  # what vouches for it, or why nothing does


class ManifestTrust:
    """Decides whether a manifest is the one its writer wrote last: its seal, and the audit log's records."""

    def __init__(self, seal: ManifestSeal, records: Mapping[str, list[ManifestRecord]], log: str) -> None:
        self.seal = seal
        self.records = records
        self.log = log  # where the records were read, for messages

    @classmethod
    async def load(cls, audit_key: bytes, log_path: Path, store: ObjectStore) -> ManifestTrust:
        """From the audit log at `log_path`, or its storage copy if this host has no local log."""
        lines, where = await read_log(log_path, store)
        return cls(ManifestSeal(audit_key), recorded_manifests(lines, audit_key), where)

    def check(self, export_id: str, data: bytes) -> Authenticity:
        """How the manifest bytes of `export_id` are authentic; ManifestNotAuthentic if they are not."""
        sealed = self.seal.check(data)
        records = self.records.get(export_id, [])
        last = records[-1] if records else None
        recorded = last is not None and last.sha256 == sha256_hex(data)
        entry = f"entry {last.seq} ({last.action}) of the audit log at {self.log}" if last else ""
        if sealed is False:
            raise ManifestNotAuthentic("its HMAC does not match its content: the manifest was edited (or sealed "
                                       "with another CA_AUDIT_HMAC_KEY)")
        if sealed:
            if last is None:
                raise ManifestNotAuthentic(f"the audit log at {self.log} records no manifest for this export, "
                                           "though every sealed manifest is recorded when written: entries were "
                                           "removed, or this is not the archive's audit log")
            if not recorded:
                raise ManifestNotAuthentic(f"it is not the manifest recorded last, in {entry}: an older or another "
                                           "export's manifest put in its place (or an interrupted `subject erase`: "
                                           "run it again)")
            return Authenticity(authenticated=True, how=f"HMAC, and recorded in {entry}")
        if recorded:
            return Authenticity(authenticated=True, how=f"recorded in {entry} (written before manifests were sealed)")
        if last is not None and last.version >= FIRST_SEALED_VERSION:
            raise ManifestNotAuthentic(f"it has no HMAC, though {entry} recorded a sealed one: the seal was removed")
        if last is not None and not msgspec.json.decode(data, type=Manifest).erasures:
            raise ManifestNotAuthentic(f"it differs from the manifest recorded in {entry}, and no erasure explains "
                                       "it: the manifest was edited")
        why = (f"differs from {entry} after an erasure that did not record it" if last is not None else
               f"not recorded in the audit log at {self.log}")
        return Authenticity(authenticated=False, how=f"unauthenticated: written before manifest version "
                                                     f"{FIRST_SEALED_VERSION} (no HMAC), and {why}")

    async def read(self, store: ObjectStore, export_id: str) -> tuple[Manifest, Authenticity]:
        """The export's manifest if it is authentic (ObjectMissing if there is none)."""
        data = await store.get(manifest_key(export_id))
        authenticity = self.check(export_id, data)
        return msgspec.json.decode(data, type=Manifest), authenticity

    async def manifest(self, store: ObjectStore, export_id: str) -> Manifest:
        """`read` without the how: a `ManifestReader` for `complete_exports`."""
        return (await self.read(store, export_id))[0]


async def unrecorded_manifests(store: ObjectStore, lines: list[bytes], audit_key: bytes) -> list[str]:
    """The manifests in the archive whose record the log lacks: a log truncated or emptied in both of its
    places shows here, as every manifest's SHA-256 was recorded in it when the manifest was written."""
    records = recorded_manifests(lines, audit_key)
    seal = ManifestSeal(audit_key)
    problems = []
    for export_id in await export_folders(store):
        try:
            data = await store.get(manifest_key(export_id))
        except ObjectMissing:
            continue
        recorded = {r.sha256 for r in records.get(export_id, [])}
        if not recorded:
            problems.append(f"export {export_id}: its manifest is in the archive, but no entry of the log records it: "
                            "the entries after it were removed")
        elif sha256_hex(data) not in recorded and seal.check(data):
            problems.append(f"export {export_id}: its sealed manifest is recorded in no entry of the log: the entry "
                            "recording it was removed")
    return problems


async def write_manifest(store: ObjectStore, manifest: Manifest, seal: ManifestSeal) -> bytes:
    data = seal.encode(manifest)
    await store.put(manifest_key(manifest.export_id), data)
    return data


async def read_manifest(store: ObjectStore, export_id: str) -> Manifest:
    """The manifest as stored, unchecked: `ManifestTrust.read` for one to act on."""
    return msgspec.json.decode(await store.get(manifest_key(export_id)), type=Manifest)


ManifestReader = Callable[[ObjectStore, str], Awaitable[Manifest]]


@dataclass(frozen=True)
class ExportFolder:
    """One export folder of the archive, with its manifest; none to act on if it has none yet (it is still
    being archived, or was left unfinished) or if the manifest is not authentic (`refused` says why)."""

    export_id: str  # the folder's name: which objects are the export's is never taken from the manifest
    manifest: Manifest | None
    refused: ManifestNotAuthentic | None = None


async def complete_exports(store: ObjectStore, read: ManifestReader = read_manifest) -> AsyncIterator[ExportFolder]:
    """Every export folder in the archive, in order, with its manifest as `read` gives it
    (`ManifestTrust.manifest` for authentic ones only)."""
    for export_id in await export_folders(store):
        try:
            manifest = await read(store, export_id)
        except ObjectMissing:
            yield ExportFolder(export_id, None)
            continue
        except ManifestNotAuthentic as exc:
            yield ExportFolder(export_id, None, exc)
            continue
        yield ExportFolder(export_id, manifest)


async def read_failure(store: ObjectStore, export_id: str) -> ExportFailure | None:
    try:
        return msgspec.json.decode(await store.get(failure_key(export_id)), type=ExportFailure)
    except ObjectMissing:
        return None
