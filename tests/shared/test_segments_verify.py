"""`verify_export` and `cognigy-archiver archive verify`: every object re-read and checked against the
manifest; a flipped byte, a missing object and an object the manifest does not know are all caught."""

from __future__ import annotations

from pathlib import Path

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog
from shared.archive.reader import read_export_records, verify_export
from shared.archive.segments import failure_key
from shared.archive.storage import FilesystemStore
from tests.archive_fixtures import cli, conversation_records
from tests.s3_server import connect, s3_bucket, s3_endpoint, s3_env  # noqa: F401

PAGES = [conversation_records(60)[i:i + 20] for i in range(0, 60, 20)]
AUDIT_KEY = b"segments-verify-audit-key-0123456789ab"


def audit_env(tmp_path: Path) -> dict[str, str]:
    """`archive verify` checks each manifest with the audit key and the log that recorded it."""
    return {"CA_AUDIT_HMAC_KEY": AUDIT_KEY.decode(), "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl")}


async def test_an_intact_export_verifies_and_reads_back(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    manifest = await archive_export(store, "exp-ok", PAGES)
    report = await verify_export(store, "exp-ok")
    assert report.ok, report.problems
    assert (report.segments, report.records) == (3, 60) == (len(manifest.segments), manifest.records)
    assert await read_export_records(store, "exp-ok") == [r for page in PAGES for r in page]
    assert manifest.key_ids == ["k1"] and len(manifest.dictionaries) == 1
    assert all(s.subjects == "" for s in manifest.segments)  # the index entries are in the index only
    assert [(r.partition, r.first, r.last) for r in manifest.offset_ranges] == [(0, 100, 102), (1, 101, 101)]


async def test_a_flipped_byte_a_missing_object_and_a_stray_one_are_caught(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    manifest = await archive_export(store, "exp-bad", PAGES)
    first, second = (tmp_path / s.key for s in manifest.segments[:2])
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0x01
    first.write_bytes(bytes(data))
    second.unlink()
    await store.put("exp-bad/segments/stray.jsonl.zst", b"not ours")
    problems = (await verify_export(store, "exp-bad")).problems
    assert problems == [
        f"{manifest.segments[0].key}: SHA-256 differs from the manifest",
        f"{manifest.segments[1].key}: missing from the archive",
        "exp-bad/segments/stray.jsonl.zst: in the archive but not in the manifest",
    ]


async def test_a_damaged_dictionary_is_caught(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    manifest = await archive_export(store, "exp-dict", PAGES)
    (tmp_path / manifest.dictionaries[0].key).write_bytes(b"\x37\xa4\x30\xec" + b"\x00" * 64)
    problems = (await verify_export(store, "exp-dict")).problems
    assert problems[0] == f"{manifest.dictionaries[0].key}: SHA-256 differs from the manifest"
    assert all("needs zstd dictionary" in p for p in problems[1:]) and len(problems) == 4


async def test_a_failed_export_says_why_it_has_no_manifest(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await store.put(failure_key("exp-f"), b'{"export_id":"exp-f","error":"quota_exceeded","message":"over quota",'
                                          b'"failed_at":"2026-10-01T00:00:00Z"}')
    assert (await verify_export(store, "exp-f")).problems == ["no manifest: the export failed: over quota"]


async def test_the_command_exits_non_zero_on_a_difference(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    manifest = await archive_export(store, "exp-cli", PAGES, audit=AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store))
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), **audit_env(tmp_path)}
    ok = cli("archive", "verify", "exp-cli", env=env)
    assert ok.returncode == 0 and ok.stdout.splitlines()[0] == "exp-cli: OK, 3 segments, 60 records match the manifest"
    (tmp_path / "archive" / manifest.segments[2].key).unlink()
    bad = cli("archive", "verify", "exp-cli", env=env)
    assert bad.returncode == 1 and "missing from the archive" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_command_verifies_an_archive_on_s3(s3_endpoint: str, s3_bucket: str,  # noqa: F811
                                                     tmp_path: Path) -> None:
    store = await connect(s3_endpoint, s3_bucket)
    try:
        manifest = await archive_export(store, "exp-s3", PAGES,
                                        audit=AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY, store))
        env = {**s3_env(s3_endpoint, s3_bucket), **audit_env(tmp_path)}
        assert cli("archive", "verify", "exp-s3", env=env).returncode == 0
        data = bytearray(await store.get(manifest.segments[0].key))
        data[-1] ^= 0x01
        await store.put(manifest.segments[0].key, bytes(data))
        bad = cli("archive", "verify", "exp-s3", env=env)
        assert bad.returncode == 1 and "SHA-256 differs" in bad.stderr
        assert env["CA_S3_SECRET_ACCESS_KEY"] not in bad.stdout + bad.stderr
    finally:
        await store.close()
