"""Finding 12: `subject find` and `subject erase` given a tokenization key other than the one the archive
was tokenized with, under the right key id, made tokens that matched nothing: find said 0 records, and
`erase --yes` "nothing held for this person", exit 0. Now the sanitizer stamps every page with its key's
check value, the archiver keeps it with each segment, and the commands name the wrong key and exit
non-zero, erasing nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cognigy_archiver.synthetic_archive import archive_pages
from shared.archive.audit import AuditLog
from shared.archive.storage import FilesystemStore
from shared.messages import ExportOptions, VerifiedPage
from shared.settings import load_settings
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.stage import Sanitizer
from tests.archive_fixtures import cli, conversation_records

KEY = "the-tokenization-key-0123456789abcdef"
WRONG_KEY = "not-the-tokenization-key-0123456789ab"
AUDIT_KEY = "wrong-key-test-audit-key-0123456789abcdef"
RECORDS = conversation_records(40)


async def sanitized_export(tmp_path: Path) -> None:
    """An export as the sanitizer, archiver and notifier make it (the sanitizer without NER: enough for the
    contact ids, which it always tokenizes)."""
    settings = load_settings({"CA_TOKENIZATION_KEY": KEY})
    engine = PiiEngine(KEY.encode(), "k1", model="none")
    try:
        sanitizer = Sanitizer(settings, engine)
        pages = [sanitizer.sanitize(VerifiedPage(export_id="exp", page_index=i, records=RECORDS[i * 20:(i + 1) * 20],
                                                 sha256="", options=ExportOptions())) for i in range(2)]
    finally:
        engine.close()
    store = FilesystemStore(tmp_path / "archive")
    await archive_pages(store, pages, audit=AuditLog(tmp_path / "audit.jsonl", AUDIT_KEY.encode(), store))


def subject(tmp_path: Path, key: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "request.json").write_text(json.dumps({"contact_id": [RECORDS[0]["contactId"]]}))
    done = cli("subject", *args, "--request-file", str(tmp_path / "request.json"), env={
        "CA_ARCHIVE_DIR": str(tmp_path / "archive"), "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
        "CA_TOKENIZATION_KEY": key, "CA_AUDIT_HMAC_KEY": AUDIT_KEY, "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl")})
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def archive_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "@audit" not in p.parts}


async def test_find_and_erase_name_a_wrong_key_under_the_right_id(tmp_path: Path) -> None:
    await sanitized_export(tmp_path)
    held = sum(r["contactId"] == RECORDS[0]["contactId"] for r in RECORDS)
    code, out, err = subject(tmp_path, KEY, "find")
    assert code == 0 and out.splitlines()[-1].startswith(f"{held} record(s) in 1 export(s)"), err
    before = archive_files(tmp_path / "archive")
    wrong = ("error: CA_TOKENIZATION_KEY is not the tokenization key 'k1' that export exp was tokenized with (their "
             "key check values differ)")
    find = subject(tmp_path, WRONG_KEY, "find")
    erase = subject(tmp_path, WRONG_KEY, "erase", "--reason", "DSR-7", "--yes")
    # Were: "0 record(s) in 0 export(s)" and "nothing held for this person", both exit 0.
    for code, out, err in (find, erase):
        assert code != 0 and wrong in err and "nothing held" not in out, out + err
        assert WRONG_KEY not in out + err and KEY not in out + err
    assert archive_files(tmp_path / "archive") == before
