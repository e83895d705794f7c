"""`subject erase` interrupted at each step, then run again: the archive ends up exactly as after one
uninterrupted run, and verifies. In-process, on an encrypted archive written by the archiver's and
notifier's own code, in JSONL segments and in Parquet files."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from cognigy_archiver import subject_erase
from cognigy_archiver.subject_erase import erase_subject, sweep_all
from cognigy_archiver.subject_identifiers import SubjectRequest, probes, request_id
from cognigy_archiver.subject_search import find_subject
from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog
from shared.archive.encryption import LocalMasterKey
from shared.archive.keystore import KeyStore, key_object
from shared.archive.manifest import Manifest, read_manifest
from shared.archive.reader import read_export_records, verify_export
from shared.archive.storage import FilesystemStore
from shared.errors import DataKeyMissing
from shared.messages import OutputFormat
from shared.settings import load_settings
from tests.s3_server import connect, s3_bucket, s3_endpoint  # noqa: F401

KEY = "erase-test-tokenization-key-0123456789"
SETTINGS = load_settings({"CA_TOKENIZATION_KEY": KEY})
FOUND = probes(SubjectRequest(contact_id=["user-1"]), SETTINGS)
CONTACT = FOUND[0].value
MASTER = LocalMasterKey(bytes(32), "m1")


@pytest.fixture(params=["jsonl", "parquet"])
def fmt(request: pytest.FixtureRequest) -> OutputFormat:
    return cast(OutputFormat, request.param)


def pages() -> list[list[dict[str, Any]]]:
    other = "[CONTACT_ID_k1_00000000000000aa]"
    return [[{"id": f"{p}-{n}", "sessionId": f"s{p}", "contactId": CONTACT if n % 3 == 0 else other,
              "inputText": f"turn {n}"} for n in range(9)] for p in range(4)]


class Crash(Exception):
    pass


def files(root: Path, fmt: OutputFormat) -> dict[str, str]:
    """Every object and its SHA-256; for encrypted Parquet files only that they are there (pyarrow draws file
    keys at random: two runs never write the same bytes, their records are compared instead)."""
    return {str(p.relative_to(root)): "" if fmt == "parquet" and p.suffix in (".parquet", ".json")
            else hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "@audit" not in p.parts}


async def erase(tmp_path: Path, name: str, keys_dir: str = "keys", rekey: bool = False) -> Path:
    """What `subject erase --yes` does: sweep, search, erase."""
    store = FilesystemStore(tmp_path / name)
    keys = KeyStore(FilesystemStore(tmp_path / keys_dir), MASTER)
    await sweep_all(store, keys)
    search = await find_subject(store, keys, FOUND, "k1")
    audit = AuditLog(tmp_path / f"{name}.audit", b"audit-key-0123456789abcdef", store)
    await erase_subject(store, audit, search, request_id(FOUND), "", False, rekey,
                        now=datetime(2026, 11, 1, tzinfo=UTC))
    return tmp_path / name


def remaining_ids() -> list[str]:
    return [f"{p}-{n}" for p in range(4) for n in range(9) if n % 3]


@pytest.mark.parametrize("step", ["write_manifest", "sweep_leftovers"])
async def test_an_interrupted_erase_is_finished_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 step: str, fmt: OutputFormat) -> None:
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    for name in ("clean", "crashed"):
        await archive_export(FilesystemStore(tmp_path / name), "exp", pages(), settings=SETTINGS, keys=keys, fmt=fmt)
    clean = await erase(tmp_path, "clean")

    async def crash(store: FilesystemStore, manifest: Manifest, *_: Any) -> Any:
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
    assert files(tmp_path / "crashed", fmt) == files(clean, fmt)
    assert (await verify_export(crashed_store, "exp", keys)).ok
    remaining = await read_export_records(crashed_store, "exp", keys)
    assert sorted(r["id"] for r in remaining) == remaining_ids()
    assert remaining == await read_export_records(FilesystemStore(clean), "exp", keys)


@pytest.mark.parametrize("crash_at", [None, "write_manifest", "destroy", "sweep_leftovers"])
async def test_a_rekeying_erase_leaves_backups_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          crash_at: str | None, fmt: OutputFormat) -> None:
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    store = FilesystemStore(tmp_path / "archive")
    await archive_export(store, "exp", pages(), settings=SETTINGS, keys=keys, fmt=fmt)
    before = await read_export_records(store, "exp", keys)
    shutil.copytree(tmp_path / "archive", tmp_path / "backup")  # taken before the erasure
    if crash_at is not None:
        destroys = 0

        async def crash(*args: Any, **kwargs: Any) -> Any:
            nonlocal destroys
            destroys += crash_at == "destroy"
            if crash_at != "destroy" or destroys == 2:  # the sweep before the search destroys nothing
                raise Crash(crash_at)
            return []

        with monkeypatch.context() as patch:
            target = KeyStore if crash_at == "destroy" else subject_erase
            patch.setattr(target, crash_at, crash)
            with pytest.raises(Crash):
                await erase(tmp_path, "archive", rekey=True)
    await erase(tmp_path, "archive", rekey=True)
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    assert (await verify_export(store, "exp", keys)).ok
    after = await read_export_records(store, "exp", keys)
    assert after == [r for r in before if r["id"] in remaining_ids()]  # in the order they were
    assert await keys.store.keys("exp") == [key_object("exp", 1)]  # the first key is gone
    manifest = await read_manifest(store, "exp")
    assert manifest.encryption is not None and manifest.encryption.generation == 1
    assert all(".e1." in s.key for s in manifest.segments)  # every segment re-sealed
    with pytest.raises(DataKeyMissing):
        await read_export_records(FilesystemStore(tmp_path / "backup"), "exp", keys)


async def test_find_and_erase_on_s3(s3_endpoint: str, s3_bucket: str, tmp_path: Path,  # noqa: F811
                                    fmt: OutputFormat) -> None:
    """The index is read with ranged GETs and the key store is a bucket prefix apart from the archive."""
    store = await connect(s3_endpoint, s3_bucket)
    key_bucket = await connect(s3_endpoint, s3_bucket, prefix="keys")
    try:
        keys = KeyStore(key_bucket, LocalMasterKey(bytes(32), "m1"))
        await archive_export(store, "exp", pages(), settings=SETTINGS, keys=keys, fmt=fmt)
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


async def test_exports_tokenized_with_another_key_are_named_not_searched(tmp_path: Path, fmt: OutputFormat) -> None:
    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    await archive_export(store, "exp", pages(), settings=SETTINGS, keys=keys, fmt=fmt)
    search = await find_subject(store, keys, FOUND, "k2")
    assert search.record_count == 0 and search.searched == 0
    assert [s.reason for s in search.skipped] == ["tokenized with key id(s) k1, not k2: not searched (run with that "
                                                  "key)"]


async def test_erase_in_a_plain_archive_rewrites_only_what_held_the_records(tmp_path: Path,
                                                                            fmt: OutputFormat) -> None:
    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), None)
    # The person is in the even pages only, their records on one day and the others' on the next: in Parquet,
    # one file of the two.
    held = [[{**r, "timestamp": f"2025-01-0{1 + p % 2}T10:00:00.000Z"} if p % 2 == 0 else
             {**r, "timestamp": "2025-01-02T10:00:00.000Z", "contactId": "[CONTACT_ID_k1_00000000000000aa]"}
             for r in page] for p, page in enumerate(pages())]
    manifest = await archive_export(store, "exp", held, settings=SETTINGS, fmt=fmt)
    assert manifest.encryption is None
    search = await find_subject(store, keys, FOUND, "k1")
    assert search.record_count == 6
    audit = AuditLog(tmp_path / "audit.jsonl", b"audit-key-0123456789abcdef", store)
    [erased] = await erase_subject(store, audit, search, request_id(FOUND), "", False)
    after = await read_manifest(store, "exp")
    assert sorted(erased.segments) == sorted(s.key for s in after.segments if ".e1." in s.key)
    untouched = [s for s in after.segments if ".e1." not in s.key]
    assert untouched and untouched == [s for s in manifest.segments if s.key in {u.key for u in untouched}]
    assert (await verify_export(store, "exp")).ok
    kept = [f"{p}-{n}" for p in range(4) for n in range(9) if n % 3 or p % 2]
    assert sorted(r["id"] for r in await read_export_records(store, "exp")) == sorted(kept)
    assert (await find_subject(store, keys, FOUND, "k1")).record_count == 0
