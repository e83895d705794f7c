"""Encryption at rest and crypto-shredding: segments sealed with AES-256-GCM under a per-export data key,
the data key wrapped by the master key in a key store apart from the archive."""

from __future__ import annotations

import asyncio
import base64
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditLog, verify_log
from shared.archive.encryption import DataKey, DecryptionFailed, LocalMasterKey, is_sealed, load_key_wrapper
from shared.archive.keystore import KeyStore, check_apart, key_object
from shared.archive.reader import ExportReader, read_export_records, verify_export
from shared.archive.retention import expire_exports
from shared.archive.storage import FilesystemStore
from shared.errors import ConfigError, DataKeyMissing
from shared.settings import load_settings
from tests.archive_fixtures import cli, conversation_records

MASTER = LocalMasterKey(bytes(range(32)), "m1")
OTHER_MASTER = LocalMasterKey(bytes(range(1, 33)), "m1")
PAGES = [conversation_records(20), conversation_records(40)[20:]]
DONE = datetime(2026, 10, 1, tzinfo=UTC)


def test_a_sealed_segment_opens_only_with_its_key_and_name() -> None:
    key = DataKey("d1", bytes(32))
    sealed = key.seal(b"zstd frame bytes", "e/segments/a.jsonl.zst")
    assert is_sealed(sealed) and b"zstd frame" not in sealed
    assert key.open(sealed, "e/segments/a.jsonl.zst") == b"zstd frame bytes"
    # Deterministic: a replayed page seals to the same bytes; another plaintext gets another nonce.
    assert key.seal(b"zstd frame bytes", "e/segments/a.jsonl.zst") == sealed
    assert key.seal(b"zstd frame byteS", "e/segments/a.jsonl.zst")[4:16] != sealed[4:16]
    with pytest.raises(DecryptionFailed, match="renamed"):
        key.open(sealed, "e/segments/b.jsonl.zst")
    with pytest.raises(DecryptionFailed):
        DataKey("d2", bytes(range(32))).open(sealed, "e/segments/a.jsonl.zst")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        key.open(tampered, "e/segments/a.jsonl.zst")


def test_master_key_settings_are_checked() -> None:
    good = base64.b64encode(bytes(32)).decode()
    wrapper = load_key_wrapper(load_settings({"CA_ARCHIVE_MASTER_KEY": good, "CA_ARCHIVE_MASTER_KEY_ID": "m7"}))
    assert wrapper is not None and wrapper.key_id == "m7"
    assert load_key_wrapper(load_settings({})) is None
    with pytest.raises(ConfigError, match="exactly 32 bytes"):
        load_key_wrapper(load_settings({"CA_ARCHIVE_MASTER_KEY": base64.b64encode(bytes(16)).decode()}))
    with pytest.raises(ConfigError, match="not valid base64"):
        load_key_wrapper(load_settings({"CA_ARCHIVE_MASTER_KEY": "not base64!"}))


def test_the_key_store_must_live_apart_from_the_archive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="overlaps the archive directory"):
        check_apart(load_settings({"CA_ARCHIVE_DIR": str(tmp_path), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "k")}))
    with pytest.raises(ConfigError, match="overlaps the archive"):
        check_apart(load_settings({"CA_ARCHIVE_BACKEND": "s3", "CA_S3_BUCKET": "b", "CA_S3_PREFIX": "archive",
                                   "CA_ARCHIVE_KEY_STORE": "s3://b/archive/keys"}))
    check_apart(load_settings({"CA_ARCHIVE_BACKEND": "s3", "CA_S3_BUCKET": "b", "CA_S3_PREFIX": "archive",
                               "CA_ARCHIVE_KEY_STORE": "s3://b/keys"}))
    check_apart(load_settings({"CA_ARCHIVE_DIR": str(tmp_path / "a"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "k")}))


async def test_archivers_racing_for_an_exports_key_all_get_the_same_one(tmp_path: Path) -> None:
    stores = [KeyStore(FilesystemStore(tmp_path / "keys"), MASTER) for _ in range(6)]
    keys = await asyncio.gather(*(s.data_key("exp", create=True) for s in stores))
    assert len({k.key_id for k in keys}) == 1
    sealed = keys[0].seal(b"page", "exp/segments/x")
    assert all(k.open(sealed, "exp/segments/x") == b"page" for k in keys)
    assert await FilesystemStore(tmp_path / "keys").keys("exp") == [key_object("exp")]
    with pytest.raises(DecryptionFailed, match="cannot unwrap"):
        await KeyStore(FilesystemStore(tmp_path / "keys"), OTHER_MASTER).data_key("exp")
    with pytest.raises(ConfigError, match="CA_ARCHIVE_MASTER_KEY"):
        await KeyStore(FilesystemStore(tmp_path / "keys"), None).data_key("exp")


async def encrypted_export(tmp_path: Path, audit_key: bytes | None = None) -> tuple[FilesystemStore, KeyStore]:
    store = FilesystemStore(tmp_path / "archive")
    keys = KeyStore(FilesystemStore(tmp_path / "keys"), MASTER)
    audit = AuditLog(tmp_path / "audit.jsonl", audit_key, store) if audit_key else None
    await archive_export(store, "exp-enc", PAGES, retention_days=30, completed_at=DONE, keys=keys, audit=audit)
    return store, keys


async def test_an_encrypted_export_reads_back_only_with_the_master_key(tmp_path: Path) -> None:
    store, keys = await encrypted_export(tmp_path)
    reader = await ExportReader.open(store, "exp-enc", keys)
    assert reader.manifest.encryption is not None
    assert reader.manifest.encryption.data_key_id == (await keys.data_key("exp-enc")).key_id
    for segment in reader.manifest.segments:
        stored = await store.get(segment.key)
        assert is_sealed(stored) and segment.encryption is not None
        assert PAGES[0][0]["sessionId"].encode() not in stored
    assert await read_export_records(store, "exp-enc", keys) == [r for page in PAGES for r in page]
    report = await verify_export(store, "exp-enc", keys)
    assert report.ok and report.plaintext_checked and report.records == 40, report.problems
    # Without the master key: the stored bytes still verify, the records cannot be read.
    locked = KeyStore(FilesystemStore(tmp_path / "keys"), None)
    report = await verify_export(store, "exp-enc", locked)
    assert report.ok and report.encrypted and not report.plaintext_checked
    with pytest.raises(ConfigError, match="the archive is encrypted"):
        await read_export_records(store, "exp-enc", locked)
    with pytest.raises(DecryptionFailed):
        await read_export_records(store, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"), OTHER_MASTER))


async def test_expiry_shreds_the_data_key_so_backups_cannot_be_read(tmp_path: Path) -> None:
    store, keys = await encrypted_export(tmp_path)
    shutil.copytree(tmp_path / "archive", tmp_path / "backup")  # a backup taken while the export was live
    audit = AuditLog(tmp_path / "audit.jsonl", b"audit-key-0123456789abcdef012345", store)
    (result,) = await expire_exports(store, keys, audit, DONE + timedelta(days=31))
    assert result.outcome == "expired" and result.data_key_destroyed
    assert await keys.store.keys("exp-enc") == [] and await store.keys("exp-enc") == []
    backup = FilesystemStore(tmp_path / "backup")
    with pytest.raises(DataKeyMissing, match=r"no data key .* in the key store"):
        await read_export_records(backup, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"), MASTER))
    report = await verify_export(backup, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"), MASTER))
    assert any("cannot be decrypted" in p for p in report.problems)
    actions = [line for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert '"data key destroyed"' in actions[1] and '"was_present":true' in actions[1]
    assert verify_log(tmp_path / "audit.jsonl", b"audit-key-0123456789abcdef012345") == []


async def test_verify_command_on_an_encrypted_export(tmp_path: Path) -> None:
    audit_key = "verify-command-audit-key-0123456789abcdef"
    await encrypted_export(tmp_path, audit_key.encode())
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
           "CA_ARCHIVE_MASTER_KEY": "", "CA_AUDIT_HMAC_KEY": audit_key,
           "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl")}
    locked = cli("archive", "verify", "exp-enc", env=env)
    assert locked.returncode == 0, locked.stderr
    assert "2 encrypted segments match the manifest's hashes; records not checked" in locked.stdout
    opened = cli("archive", "verify", "exp-enc", env={**env, "CA_ARCHIVE_MASTER_KEY": base64.b64encode(
        bytes(range(32))).decode()})
    assert opened.stdout.splitlines()[0] == "exp-enc: OK, 2 segments, decrypted, 40 records match the manifest", (
        opened.stderr)
    wrong = cli("archive", "verify", "exp-enc", env={**env, "CA_ARCHIVE_MASTER_KEY": base64.b64encode(
        bytes(range(1, 33))).decode()})
    assert wrong.returncode == 1 and "cannot unwrap this data key" in wrong.stderr


async def test_rotating_the_master_key_rewraps_every_data_key(tmp_path: Path) -> None:
    store, _ = await encrypted_export(tmp_path)
    before = await read_export_records(store, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"), MASTER))
    segments = {p: p.read_bytes() for p in (tmp_path / "archive").rglob("*.zst")}
    (tmp_path / "old.key").write_text(base64.b64encode(bytes(range(32))).decode())
    new_key = base64.b64encode(bytes(range(64, 96))).decode()
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
           "CA_ARCHIVE_MASTER_KEY": new_key, "CA_ARCHIVE_MASTER_KEY_ID": "m2",
           "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"), "CA_AUDIT_HMAC_KEY": "audit-key-0123456789abcdef012345"}
    args = ("archive", "rewrap", "--old-key-file", str(tmp_path / "old.key"), "--old-key-id", "m1")
    rotated = cli(*args, env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("1 data key(s) now wrapped by master key 'm2'")
    assert "(1 already were)" in cli(*args, env=env).stdout  # run again: nothing left to do
    new_master = LocalMasterKey(bytes(range(64, 96)), "m2")
    assert await read_export_records(store, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"),
                                                                new_master)) == before
    with pytest.raises(DataKeyMissing, match="wrapped by master key 'm2'"):
        await read_export_records(store, "exp-enc", KeyStore(FilesystemStore(tmp_path / "keys"), MASTER))
    assert {p: p.read_bytes() for p in (tmp_path / "archive").rglob("*.zst")} == segments  # untouched
    same = cli(*args, env={**env, "CA_ARCHIVE_MASTER_KEY_ID": "m1"})
    assert same.returncode == 2 and "with a new CA_ARCHIVE_MASTER_KEY_ID" in same.stderr


async def test_the_archiver_refuses_to_start_with_the_wrong_master_key(tmp_path: Path) -> None:
    await encrypted_export(tmp_path)
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
           "CA_ARCHIVE_ENCRYPTION": "aes-256-gcm", "CA_ARCHIVE_MASTER_KEY": base64.b64encode(bytes(32)).decode(),
           "CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    result = cli("run", "archiver", env=env)
    assert result.returncode == 2
    assert "CA_ARCHIVE_MASTER_KEY is not master key 'm1': it cannot unwrap the data key of export exp-enc" in (
        result.stdout + result.stderr)
    assert base64.b64encode(bytes(32)).decode() not in result.stdout + result.stderr


async def test_the_expire_command_shreds_the_data_key(tmp_path: Path) -> None:
    await encrypted_export(tmp_path)
    shutil.copytree(tmp_path / "archive", tmp_path / "backup")
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
           "CA_ARCHIVE_ENCRYPTION": "aes-256-gcm", "CA_ARCHIVE_MASTER_KEY": base64.b64encode(bytes(range(32))).decode(),
           "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"), "CA_AUDIT_HMAC_KEY": "audit-key-0123456789abcdef012345"}
    objects = sum(p.is_file() for p in (tmp_path / "archive" / "exp-enc").rglob("*"))
    result = cli("archive", "expire", "--now", (DONE + timedelta(days=31)).isoformat(), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"expired      exp-enc (expires 2026-10-31 00:00Z), {objects} objects, data key destroyed",
        "1 export(s) expired, 0 held"]
    assert not list((tmp_path / "keys").rglob("*.json"))
    backup = cli("archive", "verify", "exp-enc", env={**env, "CA_ARCHIVE_DIR": str(tmp_path / "backup")})
    assert backup.returncode == 1 and "cannot be decrypted" in backup.stderr, backup.stderr
