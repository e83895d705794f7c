"""Finding 9: `archive verify` trusted whatever the manifest said. Someone who can write to the archive
deletes a segment with its manifest entry, rewrites a segment and its hash, lists another export's segment,
moves `expires_at`, changes `total_pages`, or puts back an older manifest (undoing an erasure): each
verified OK. Now the manifest is sealed (HMAC under a key derived from CA_AUDIT_HMAC_KEY), recorded in the
audit log by SHA-256, and checked for being whole (every page once, every object this export's): each
tampering is caught by the command, with a message naming what is wrong."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cognigy_archiver.subject_erase import erase_subject
from cognigy_archiver.subject_identifiers import Probe
from cognigy_archiver.subject_search import find_subject
from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog
from shared.archive.keystore import KeyStore
from shared.archive.manifest import Manifest, ManifestSeal, ManifestTrust, read_manifest
from shared.archive.reader import verify_export
from shared.archive.segments import decode_segment, encode_segment, load_dictionary, meta_key, sha256_hex
from shared.archive.storage import FilesystemStore, ObjectStore
from tests.archive_fixtures import cli, conversation_records
from tests.s3_server import connect, s3_bucket, s3_endpoint, s3_env  # noqa: F401

AUDIT_KEY = b"manifest-authentication-audit-key-0123456789"
RECORDS = conversation_records(90)
PAGES = [RECORDS[i:i + 15] for i in range(0, 45, 15)]
OTHER_PAGES = [RECORDS[i:i + 15] for i in range(45, 90, 15)]
Doc = dict[str, Any]


async def two_exports(tmp_path: Path, store: ObjectStore | None = None) -> tuple[ObjectStore, AuditLog]:
    """exp-a and exp-b, archived as the notifier writes them: sealed manifests, recorded in the audit log."""
    store = store or FilesystemStore(tmp_path / "archive")
    audit = AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store)
    await archive_export(store, "exp-a", PAGES, retention_days=30, audit=audit)
    await archive_export(store, "exp-b", OTHER_PAGES, audit=audit)
    return store, audit


def env(tmp_path: Path) -> dict[str, str]:
    return {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_AUDIT_HMAC_KEY": AUDIT_KEY.decode(),
            "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl")}


async def edit_manifest(store: ObjectStore, export_id: str, change: Callable[[Doc], None]) -> None:
    """What an editor with write access does: change fields, save (the seal, if any, is left as it was)."""
    doc = json.loads(await store.get(f"{export_id}/manifest.json"))
    change(doc)
    await store.put(f"{export_id}/manifest.json", json.dumps(doc, indent=2).encode())


def strip_seal(doc: Doc) -> None:
    del doc["hmac_sha256"]


async def delete_a_segment_and_its_entry(store: ObjectStore) -> None:
    def drop(doc: Doc) -> None:
        gone = doc["segments"].pop(1)
        doc["records"] -= gone["records"]
        doc["bytes"] -= gone["bytes"]
    manifest = await read_manifest(store, "exp-a")
    await store.delete([manifest.segments[1].key, meta_key(manifest.segments[1].key)])
    await edit_manifest(store, "exp-a", drop)


async def rewrite_a_segment_and_its_hash(store: ObjectStore) -> None:
    segment = (await read_manifest(store, "exp-a")).segments[0]
    dictionary = load_dictionary("builtin")
    assert dictionary is not None
    records = decode_segment(await store.get(segment.key), dictionaries={segment.dictionary_id: dictionary})
    rewritten = encode_segment(records[1:], dictionary=dictionary)  # one record quietly removed
    await store.put(segment.key, rewritten)

    def rehash(doc: Doc) -> None:
        doc["segments"][0].update(sha256=sha256_hex(rewritten), bytes=len(rewritten), records=len(records) - 1)
        doc["records"] -= 1
    await edit_manifest(store, "exp-a", rehash)


async def list_another_exports_segment(store: ObjectStore) -> None:
    own = (await read_manifest(store, "exp-a")).segments[2]
    theirs = json.loads(await store.get("exp-b/manifest.json"))["segments"][2]
    await store.delete([own.key, meta_key(own.key)])

    def swap(doc: Doc) -> None:
        doc["segments"][2] = theirs
        doc["records"] += theirs["records"] - own.records
        doc["bytes"] += theirs["bytes"] - own.bytes
    await edit_manifest(store, "exp-a", swap)


async def move_expires_at(store: ObjectStore) -> None:
    await edit_manifest(store, "exp-a", lambda doc: doc.update(expires_at="2099-01-01T00:00:00Z"))


async def change_total_pages(store: ObjectStore) -> None:
    await edit_manifest(store, "exp-a", lambda doc: doc.update(total_pages=2))


TAMPERING = {
    "delete a segment and its entry": (delete_a_segment_and_its_entry, [
        "manifest: 1 of its 3 pages are in no segment and not listed dead: 1"]),
    "rewrite a segment and its hash": (rewrite_a_segment_and_its_hash, []),
    "list another export's segment": (list_another_exports_segment, [
        "not the object of this export's page 2"]),
    "move expires_at": (move_expires_at, []),
    "change total_pages": (change_total_pages, ["manifest: pages 2 are beyond its total of 2"]),
}
NOT_AUTHENTIC = "manifest: not authentic: its HMAC does not match its content: the manifest was edited"


@pytest.mark.parametrize("case", TAMPERING)
async def test_verify_catches_a_manifest_edited_to_match(tmp_path: Path, case: str) -> None:
    store, _ = await two_exports(tmp_path)
    ok = cli("archive", "verify", "exp-a", env=env(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "manifest authentic: HMAC, and recorded in entry 1 (export archived)" in ok.stdout
    tamper, more = TAMPERING[case]
    await tamper(store)
    bad = cli("archive", "verify", "exp-a", env=env(tmp_path))
    assert bad.returncode == 1, bad.stdout  # every one of these verified OK before
    assert NOT_AUTHENTIC in bad.stderr and "Traceback" not in bad.stderr
    assert all(m in bad.stderr for m in more), bad.stderr
    assert cli("archive", "verify", "exp-b", env=env(tmp_path)).returncode == 0  # the other export is untouched


async def test_verify_catches_an_older_manifest_put_back(tmp_path: Path) -> None:
    """An erasure undone from a backup: the old manifest and segments are genuine, just not current."""
    store, audit = await two_exports(tmp_path)
    shutil.copytree(tmp_path / "archive" / "exp-a", tmp_path / "backup")
    session = PAGES[0][0]["sessionId"]
    search = await find_subject(store, KeyStore(FilesystemStore(tmp_path / "keys"), None),
                                [Probe("sessionId", session, "conversation")], "k1", True)
    assert search.record_count > 0
    await erase_subject(store, audit, search, "req-1", "DSR-1", True)
    assert cli("archive", "verify", "exp-a", env=env(tmp_path)).returncode == 0
    shutil.rmtree(tmp_path / "archive" / "exp-a")
    shutil.copytree(tmp_path / "backup", tmp_path / "archive" / "exp-a")  # the person's records are back
    bad = cli("archive", "verify", "exp-a", env=env(tmp_path))
    assert bad.returncode == 1, bad.stdout
    assert "manifest: not authentic: it is not the manifest recorded last, in entry 4 (manifest rewritten)" in (
        bad.stderr)


async def test_verify_catches_a_stripped_seal(tmp_path: Path) -> None:
    store, _ = await two_exports(tmp_path)
    await edit_manifest(store, "exp-a", strip_seal)
    bad = cli("archive", "verify", "exp-a", env=env(tmp_path))
    assert bad.returncode == 1
    assert "it has no HMAC, though entry 1 (export archived) of the audit log" in bad.stderr
    assert "recorded a sealed one: the seal was removed" in bad.stderr


async def test_the_wholeness_checks_hold_even_under_a_valid_seal(tmp_path: Path) -> None:
    """Someone holding the audit key (or a bug in a writer) still cannot make a manifest that lists
    another export's objects or leaves a page out pass."""
    store, _ = await two_exports(tmp_path)
    await list_another_exports_segment(store)
    await change_total_pages(store)
    doc = json.loads(await store.get("exp-a/manifest.json"))
    strip_seal(doc)
    await store.put("exp-a/manifest.json", ManifestSeal(AUDIT_KEY).encode(msgspec.convert(doc, Manifest)))
    trust = await ManifestTrust.load(AUDIT_KEY, tmp_path / "audit.jsonl", store)
    problems = (await verify_export(store, "exp-a", None, trust)).problems
    assert problems[0].startswith("manifest: not authentic: it is not the manifest recorded last")
    assert "manifest: pages 2 are beyond its total of 2" in problems
    assert any(p.startswith("exp-b/segments/") and "not the object of this export's page 2" in p for p in problems)


async def test_an_archive_written_before_manifests_were_sealed(tmp_path: Path) -> None:
    """A version-3 manifest: vouched for by the audit log if it recorded it; else verified, and reported
    unauthenticated (exit 0), because nothing can vouch for it either way."""
    store, audit = await two_exports(tmp_path)
    def version_3(doc: Doc) -> None:
        strip_seal(doc)
        doc["version"] = 3
    for export_id in ("exp-a", "exp-b"):
        await edit_manifest(store, export_id, version_3)
    legacy = await store.get("exp-a/manifest.json")
    await audit.append("legacy:exp-a", "export archived", "exp-a", {"manifest_sha256": sha256_hex(legacy)})
    recorded = cli("archive", "verify", "exp-a", env=env(tmp_path))
    assert recorded.returncode == 0, recorded.stderr
    assert "recorded in entry 3 (export archived)" in recorded.stdout and "before manifests were sealed" in (
        recorded.stdout)
    (tmp_path / "audit.jsonl").unlink()  # a log that does not reach back that far (the storage copy is read)
    for key in await store.keys("@audit"):
        await store.delete([key])
    unknown = cli("archive", "verify", "exp-b", env=env(tmp_path))
    assert unknown.returncode == 0, unknown.stderr
    assert "manifest unauthenticated: written before manifest version 4 (no HMAC)" in unknown.stderr


async def test_verify_on_s3_from_a_host_without_the_local_log(s3_endpoint: str, s3_bucket: str,  # noqa: F811
                                                              tmp_path: Path) -> None:
    """The audit log's storage copy vouches for the manifest when the local log is not on this host."""
    store = await connect(s3_endpoint, s3_bucket)
    try:
        await two_exports(tmp_path, store)
        remote = {**s3_env(s3_endpoint, s3_bucket), "CA_AUDIT_HMAC_KEY": AUDIT_KEY.decode(),
                  "CA_AUDIT_LOG_PATH": str(tmp_path / "elsewhere" / "audit.jsonl")}
        ok = cli("archive", "verify", "exp-a", env=remote)
        assert ok.returncode == 0, ok.stderr
        assert "recorded in entry 1 (export archived) of the audit log at s3://" in ok.stdout
        await move_expires_at(store)
        bad = cli("archive", "verify", "exp-a", env=remote)
        assert bad.returncode == 1 and NOT_AUTHENTIC in bad.stderr
    finally:
        await store.close()
