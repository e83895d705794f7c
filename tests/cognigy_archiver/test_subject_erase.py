"""`subject erase` interrupted at each step, then run again: the archive ends up exactly as after one
uninterrupted run, and verifies. In-process, on an encrypted archive written by the archiver's and
notifier's own code."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cognigy_archiver import subject_erase
from cognigy_archiver.subject_erase import erase_subject, sweep_all
from cognigy_archiver.subject_identifiers import SubjectRequest, probes, request_id
from cognigy_archiver.subject_search import find_subject
from shared.archive_reader import read_export_records, verify_export
from shared.audit import AuditLog
from shared.encryption import LocalMasterKey
from shared.keystore import KeyStore
from shared.manifest import Manifest
from shared.settings import load_settings
from shared.storage import FilesystemStore
from tests.archive_fixtures import archive_export
from tests.s3_server import connect, s3_bucket, s3_endpoint  # noqa: F401

KEY = "erase-test-tokenization-key-0123456789"
SETTINGS = load_settings({"CA_TOKENIZATION_KEY": KEY})
FOUND = probes(SubjectRequest(contact_id=["user-1"]), SETTINGS)
CONTACT = FOUND[0].value


def pages() -> list[list[dict[str, Any]]]:
    other = "[CONTACT_ID_k1_00000000000000aa]"
    return [[{"id": f"{p}-{n}", "sessionId": f"s{p}", "contactId": CONTACT if n % 3 == 0 else other,
              "inputText": f"turn {n}"} for n in range(9)] for p in range(4)]


class Crash(Exception):
    pass


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "@audit" not in p.parts}


async def erase(tmp_path: Path, name: str) -> Path:
    store = FilesystemStore(tmp_path / name)
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), LocalMasterKey(bytes(32), "m1"))
    await sweep_all(store)  # as the command does, before it searches
    search = await find_subject(store, keys, FOUND, "k1")
    audit = AuditLog(tmp_path / f"{name}.audit", b"audit-key-0123456789abcdef", store)
    await sweep_all(store)
    await erase_subject(store, audit, search, request_id(FOUND), "", False, now=datetime(2026, 11, 1, tzinfo=UTC))
    return tmp_path / name


@pytest.mark.parametrize("step", ["write_manifest", "sweep_leftovers"])
async def test_an_interrupted_erase_is_finished_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 step: str) -> None:
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), LocalMasterKey(bytes(32), "m1"))
    for name in ("clean", "crashed"):
        await archive_export(FilesystemStore(tmp_path / name), "exp", pages(), settings=SETTINGS, keys=keys)
    clean = await erase(tmp_path, "clean")

    async def crash(store: FilesystemStore, manifest: Manifest) -> Any:
        if step == "write_manifest" or manifest.erasures:  # the sweep before the search still runs
            raise Crash(step)
        return []

    with monkeypatch.context() as patch:
        patch.setattr(subject_erase, step, crash)
        with pytest.raises(Crash):
            await erase(tmp_path, "crashed")
    crashed_store = FilesystemStore(tmp_path / "crashed")
    # Before the manifest, its objects are all there (the new ones are strays); after it, the new ones are
    # (the old ones are strays). Either way every listed object reads back.
    problems = (await verify_export(crashed_store, "exp", keys)).problems
    assert problems and all("in the archive but not in the manifest" in p for p in problems)
    await erase(tmp_path, "crashed")
    assert files(tmp_path / "crashed") == files(clean)
    assert (await verify_export(crashed_store, "exp", keys)).ok
    remaining = await read_export_records(crashed_store, "exp", keys)
    assert [r["id"] for r in remaining] == [f"{p}-{n}" for p in range(4) for n in range(9) if n % 3]


async def test_find_and_erase_on_s3(s3_endpoint: str, s3_bucket: str, tmp_path: Path) -> None:  # noqa: F811
    """The index is read with ranged GETs and the key store is a bucket prefix apart from the archive."""
    store = await connect(s3_endpoint, s3_bucket)
    key_bucket = await connect(s3_endpoint, s3_bucket, prefix="keys")
    try:
        keys = KeyStore(key_bucket, LocalMasterKey(bytes(32), "m1"))
        await archive_export(store, "exp", pages(), settings=SETTINGS, keys=keys)
        search = await find_subject(store, keys, FOUND, "k1")
        assert search.record_count == 12
        audit = AuditLog(tmp_path / "audit.jsonl", b"audit-key-0123456789abcdef", store)
        await erase_subject(store, audit, search, request_id(FOUND), "", False)
        assert (await verify_export(store, "exp", keys)).ok
        assert (await find_subject(store, keys, FOUND, "k1")).record_count == 0
        assert len(await read_export_records(store, "exp", keys)) == 24
    finally:
        await store.close()
        await key_bucket.close()
