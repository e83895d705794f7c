"""Finding 10: `audit verify` compared the log with its storage copy, so truncating the last entries of both,
or emptying both, left a shorter chain that verified OK. Now the head is anchored outside the log: a signed
checkpoint in the storage (moved only forward along the same chain), and every manifest's record (a
manifest whose entry is gone shows the removal). Each rollback is caught by the command, with the
difference from the anchor; a writer that starts again on the rolled-back log does not erase the evidence."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import AuditHead, AuditLog, checkpoint_bytes
from shared.archive.storage import FilesystemStore, ObjectStore
from tests.archive_fixtures import cli, conversation_records
from tests.s3_server import connect, s3_bucket, s3_endpoint, s3_env  # noqa: F401

KEY = b"audit-rollback-test-key-0123456789abcdef"
PAGES = [conversation_records(10)]


async def history(tmp_path: Path, store: ObjectStore) -> AuditLog:
    """Five entries: exp-a archived (1), two deliveries (2, 3), exp-b archived (4), a legal hold (5)."""
    audit = AuditLog(tmp_path / "audit.jsonl", KEY, store)
    await archive_export(store, "exp-a", PAGES, audit=audit)
    for n in (1, 2):
        await audit.append(f"delivered:{n}", "webhook delivered", "exp-a", {"attempts": n})
    await archive_export(store, "exp-b", PAGES, audit=audit)
    await audit.append("hold:exp-a", "legal hold set", "exp-a", {"reason": "litigation"})
    return audit


async def truncate_both(tmp_path: Path, store: ObjectStore, keep: int) -> None:
    """What an editor with access to both copies does: cut the local log and the storage copy alike."""
    path = tmp_path / "audit.jsonl"
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"".join(line + b"\n" for line in lines[:keep]))
    await store.delete([f"@audit/{seq:012d}.json" for seq in range(keep + 1, len(lines) + 1)])


def audit_verify(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    done = cli("audit", "verify", env={"CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"),
                                       "CA_AUDIT_HMAC_KEY": KEY.decode(), **env})
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout + done.stderr


async def test_the_last_entries_removed_from_both_copies(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    await history(tmp_path, store)
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive")}
    assert audit_verify(tmp_path, env) == (0, f"{tmp_path / 'audit.jsonl'}: OK, 5 entries, chain and signatures "
                                              "intact, storage copy matches\n  its head checkpoint and every manifest "
                                              "in the archive agree: nothing was cut off the end\n")
    await truncate_both(tmp_path, store, keep=3)
    code, output = audit_verify(tmp_path, env)
    assert code == 1  # verified OK before
    assert "the log has 3 entries, its head checkpoint (" in output and "says 5: entries 4-5 were removed" in output
    assert "export exp-b: its manifest is in the archive, but no entry of the log records it" in output
    # A writer starting again on the shorter log (the notifier, restarted) does not cover it up.
    restarted = AuditLog(tmp_path / "audit.jsonl", KEY, store)
    await restarted.catch_up_storage()
    for n in (3, 4, 5):
        await restarted.append(f"delivered:{n}", "webhook delivered", "exp-a", {"attempts": n})
    code, output = audit_verify(tmp_path, env)
    assert code == 1 and "entry 5: differs from the head checkpoint" in output, output


async def test_both_copies_emptied(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    await history(tmp_path, store)
    await truncate_both(tmp_path, store, keep=0)
    env = {"CA_ARCHIVE_DIR": str(tmp_path / "archive")}
    code, output = audit_verify(tmp_path, env)
    assert code == 1 and "the log has 0 entries, its head checkpoint" in output and "entries 1-5 were removed" in (
        output)
    await store.delete(["@audit/head.json"])  # the checkpoint too: the manifests still say what was there
    code, output = audit_verify(tmp_path, env)
    assert code == 1
    assert [line for line in output.splitlines() if "no entry of the log records it" in line] == [
        f"  - export {e}: its manifest is in the archive, but no entry of the log records it: the entries after it "
        "were removed" for e in ("exp-a", "exp-b")]


async def test_a_rollback_with_an_older_checkpoint_put_back(tmp_path: Path) -> None:
    """The log cut to 3 entries, and the checkpoint as it was at entry 3 (a copy saved then) put back:
    exp-b's manifest, archived at entry 4, shows the removal."""
    store = FilesystemStore(tmp_path / "archive")
    await history(tmp_path, store)
    third = (tmp_path / "audit.jsonl").read_bytes().splitlines()[2]
    saved = checkpoint_bytes(KEY, AuditHead(seq=3, sha256=hashlib.sha256(third).hexdigest()))
    await truncate_both(tmp_path, store, keep=3)
    await store.put("@audit/head.json", saved)
    code, output = audit_verify(tmp_path, {"CA_ARCHIVE_DIR": str(tmp_path / "archive")})
    assert code == 1 and "head checkpoint" not in output
    assert "export exp-b: its manifest is in the archive, but no entry of the log records it" in output


async def test_a_forged_checkpoint_is_named(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    await history(tmp_path, store)
    await truncate_both(tmp_path, store, keep=3)
    await store.put("@audit/head.json", b'{"hmac":"' + b"0" * 64 + b'","seq":3,"sha256":"' + b"1" * 64 + b'"}')
    code, output = audit_verify(tmp_path, {"CA_ARCHIVE_DIR": str(tmp_path / "archive")})
    assert code == 1 and "head.json: its HMAC does not match its content" in output


@pytest.mark.parametrize("keep", [3, 0])
async def test_a_rollback_on_s3(s3_endpoint: str, s3_bucket: str, tmp_path: Path, keep: int) -> None:  # noqa: F811
    store = await connect(s3_endpoint, s3_bucket)
    try:
        await history(tmp_path, store)
        env = s3_env(s3_endpoint, s3_bucket)
        assert audit_verify(tmp_path, env)[0] == 0
        await truncate_both(tmp_path, store, keep=keep)
        code, output = audit_verify(tmp_path, env)
        assert code == 1 and f"the log has {keep} entries, its head checkpoint (s3://{s3_bucket}/archive/@audit/" \
            "head.json) says 5" in output, output
    finally:
        await store.close()
