"""Compaction when a Parquet export completes, interrupted at each step and run again: the archive ends up
byte for byte as after one uninterrupted run, verifies, and holds every record once. In-process, with the
archiver's and the notifier's own code."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.encryption import LocalMasterKey
from shared.archive.keystore import KeyStore
from shared.archive.reader import read_export_records, verify_export
from shared.archive.storage import FilesystemStore
from stages.notifier import manifests
from tests.archive_fixtures import conversation_records

RECORDS = conversation_records(400)
PAGES = [RECORDS[i:i + 25] for i in range(0, 400, 25)]


class Crash(Exception):
    pass


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "@audit" not in p.parts}


@pytest.mark.parametrize("crash", ["before the manifest", "before the deletion", "amid the deletion"])
async def test_an_interrupted_compaction_is_finished_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    crash: str) -> None:
    clean = await archive_export(FilesystemStore(tmp_path / "clean"), "exp", PAGES, fmt="parquet")
    assert any(s.compacted for s in clean.segments)
    store = FilesystemStore(tmp_path / "crashed")
    with monkeypatch.context() as patch:
        if crash == "before the manifest":
            async def no_manifest(*_: Any) -> bytes:
                raise Crash(crash)
            patch.setattr(manifests, "write_manifest", no_manifest)
        else:
            delete = store.delete

            async def crashing_delete(keys: Iterable[str]) -> None:
                if crash == "amid the deletion":
                    await delete(list(keys)[:3])
                raise Crash(crash)
            patch.setattr(store, "delete", crashing_delete)
        with pytest.raises(Crash):
            await archive_export(store, "exp", PAGES, fmt="parquet")
    # The whole run again, as a replay of the archiver's input and the notifier's completion.
    again = await archive_export(store, "exp", PAGES, fmt="parquet")
    assert files(tmp_path / "crashed") == files(tmp_path / "clean")
    assert again == clean
    assert (await verify_export(store, "exp")).ok
    assert sorted(r["id"] for r in await read_export_records(store, "exp")) == sorted(r["id"] for r in RECORDS)


async def test_an_encrypted_export_is_compacted_under_its_own_key(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), LocalMasterKey(bytes(range(32)), "m1"))
    manifest = await archive_export(store, "exp", PAGES, fmt="parquet", keys=keys)
    merged = [s for s in manifest.segments if s.compacted]
    assert merged and all(s.encryption is not None for s in merged)
    assert sorted(str(p.relative_to(tmp_path / "archive")) for p in (tmp_path / "archive").rglob("*.parquet")) == \
        sorted(s.key for s in manifest.segments)
    report = await verify_export(store, "exp", keys)
    assert report.ok and report.plaintext_checked and report.records == len(RECORDS), report.problems
    assert sorted(r["id"] for r in await read_export_records(store, "exp", keys)) == sorted(r["id"] for r in RECORDS)
