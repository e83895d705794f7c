"""`subject find` over an archive of a million records: the subject index against a scan of every segment.

The archive is synthetic (generating a million conversations through the whole pipeline would take an
hour here): EXPORTS exports of RECORDS_PER_EXPORT records, pages of PAGE_RECORDS, written by the
archiver's and notifier's own code (encrypted, with the subject index), shaped like sanitized Cognigy
records: a contact token, a session id, and a few PII tokens in the text. One subject is planted: an
e-mail address in PLANTED records spread over every export, and a contact id with its own sessions.

Measured, side by side in one run:
- `index_find`: `find_subject` for the subject's e-mail and contact id (index lookups in every export,
  then the candidate segments read, decrypted and each hit confirmed), in-process, cold (fresh store and
  key store objects) and warm (median of repeats); a heavy subject (a contact with ~125 conversations,
  about 1,000 records, plus the e-mail), and the e-mail alone (PLANTED records);
- `cli_find`: the same as a user runs it, `cognigy-archiver subject find`, process start included;
- `scan_find`: the baseline without an index: every segment read, decrypted, decoded and searched for the
  same tokens.

Run: `.venv/bin/python -m bench.subject_bench` -> bench/results/subject.json
(`--exports 4 --records-per-export 5000` for a quick look.)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cognigy_archiver.subject_identifiers import SubjectRequest, probes
from cognigy_archiver.subject_search import find_subject
from cognigy_archiver.synthetic_archive import archive_export
from shared.archive.audit import STORAGE_FOLDER
from shared.archive.encryption import LocalMasterKey
from shared.archive.keystore import KeyStore
from shared.archive.reader import ExportReader
from shared.archive.storage import FilesystemStore
from shared.archive.subject_index import record_tokens
from shared.settings import Settings, load_settings
from stages.sanitizer.actions import Pseudonymizer
from stages.sanitizer.fields import CONTACT_ID

RESULTS = Path(__file__).parent / "results" / "subject.json"
MASTER_KEY = bytes(range(32))
TOKEN_KEY = "bench-tokenization-key-0123456789abcdef"
SUBJECT_EMAIL = "subject.person@example.org"
SUBJECT_CONTACT = "user-subject"
PLANTED = 60


def settings_for(work: Path) -> Settings:
    return load_settings({"CA_ARCHIVE_DIR": str(work / "archive"), "CA_ARCHIVE_KEY_STORE": str(work / "keys"),
                          "CA_TOKENIZATION_KEY": TOKEN_KEY, "CA_ARCHIVE_ENCRYPTION": "aes-256-gcm",
                          "CA_ARCHIVE_MASTER_KEY": base64.b64encode(MASTER_KEY).decode(),
                          "CA_AUDIT_LOG_PATH": str(work / "audit.jsonl"),
                          "CA_AUDIT_HMAC_KEY": "bench-audit-key-0123456789abcdef"})


def synthetic_pages(rng: random.Random, export: int, records: int, page: int, planted: set[tuple[int, int]],
                    pseudonymizer: Pseudonymizer) -> list[list[dict[str, Any]]]:
    subject_email = pseudonymizer.token("EMAIL_ADDRESS", SUBJECT_EMAIL)
    subject_contact = pseudonymizer.token(CONTACT_ID, SUBJECT_CONTACT)
    out: list[dict[str, Any]] = []
    session = ""
    contact = ""
    for n in range(records):
        if n % 8 == 0:  # 8 turns a conversation
            session = f"session-{export}-{n // 8}"
            own = rng.random() < 0.001
            contact = subject_contact if own else pseudonymizer.token(CONTACT_ID, f"user-{rng.randrange(200_000)}")
        email = subject_email if (export, n) in planted else pseudonymizer.token(
            "EMAIL_ADDRESS", f"someone{rng.randrange(500_000)}@example.com")
        phone = pseudonymizer.token("PHONE_NUMBER", f"+1555{rng.randrange(10_000_000):07d}")
        text = f"my email is {email}" if n % 4 == 1 else (f"call me on {phone}" if n % 4 == 3 else "thanks!")
        out.append({"id": f"{export:04x}{n:020x}", "sessionId": session, "contactId": contact,
                    "timestamp": f"2025-01-{1 + n % 28:02d}T10:00:{n % 60:02d}.000Z", "source": "user",
                    "type": "input", "inputText": text, "inputData": {}, "channel": "webchat3"})
    return [out[i:i + page] for i in range(0, records, page)]


async def build_archive(settings: Settings, exports: int, per_export: int, page: int) -> dict[str, Any]:
    rng = random.Random(42)
    pseudonymizer = Pseudonymizer(TOKEN_KEY.encode(), "k1")
    candidates = [(e, n) for e in range(exports) for n in range(1, per_export, 4)]
    planted = set(rng.sample(candidates, PLANTED))
    store = FilesystemStore(settings.archive.path)
    keys = KeyStore(FilesystemStore(Path(settings.archive.key_store)), LocalMasterKey(MASTER_KEY, "m1"))
    started = time.perf_counter()
    index_bytes = entries = 0
    for export in range(exports):
        pages = synthetic_pages(rng, export, per_export, page, planted, pseudonymizer)
        manifest = await archive_export(store, f"exp-{export:03d}", pages, settings=settings, keys=keys)
        assert manifest.subject_index is not None
        index_bytes += manifest.subject_index.bytes
        entries += manifest.subject_index.entries
    return {"seconds": round(time.perf_counter() - started, 1), "index_bytes": index_bytes, "index_entries": entries,
            "index_bytes_per_record": round(index_bytes / (exports * per_export), 1)}


HEAVY = SubjectRequest(email=[SUBJECT_EMAIL], contact_id=[SUBJECT_CONTACT])
EMAIL_ONLY = SubjectRequest(email=[SUBJECT_EMAIL])


async def index_find(settings: Settings, request: SubjectRequest = HEAVY) -> tuple[float, int]:
    store = FilesystemStore(settings.archive.path)
    keys = KeyStore(FilesystemStore(Path(settings.archive.key_store)), LocalMasterKey(MASTER_KEY, "m1"))
    found = probes(request, settings)
    started = time.perf_counter()
    search = await find_subject(store, keys, found, "k1")
    return time.perf_counter() - started, search.record_count


async def scan_find(settings: Settings) -> tuple[float, int]:
    store = FilesystemStore(settings.archive.path)
    keys = KeyStore(FilesystemStore(Path(settings.archive.key_store)), LocalMasterKey(MASTER_KEY, "m1"))
    wanted = {p.value for p in probes(SubjectRequest(email=[SUBJECT_EMAIL], contact_id=[SUBJECT_CONTACT]), settings)}
    started = time.perf_counter()
    hits = 0
    for export_id in await store.folders():
        if export_id == STORAGE_FOLDER:
            continue
        reader = await ExportReader.open(store, export_id, keys)
        for segment in reader.manifest.segments:
            hits += sum(bool(record_tokens(r) & wanted) for r in await reader.records(segment))
    return time.perf_counter() - started, hits


def cli_find(settings: Settings) -> tuple[float, int]:
    env = {**os.environ, **{k: str(v) for k, v in {
        "CA_ARCHIVE_DIR": settings.archive.dir, "CA_ARCHIVE_KEY_STORE": settings.archive.key_store,
        "CA_TOKENIZATION_KEY": TOKEN_KEY, "CA_ARCHIVE_MASTER_KEY": settings.archive.master_key.reveal(),
        "CA_AUDIT_LOG_PATH": settings.audit.log_path, "CA_AUDIT_HMAC_KEY": settings.audit.hmac_key.reveal()}.items()}}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", "subject", "find", "--email", SUBJECT_EMAIL,
                             "--contact-id", SUBJECT_CONTACT, "--json"], capture_output=True, text=True, env=env,
                            check=True)
    return time.perf_counter() - started, len(result.stdout.splitlines())


async def main(exports: int, per_export: int, page: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="subject-bench-") as tmp:
        settings = settings_for(Path(tmp))
        build = await build_archive(settings, exports, per_export, page)
        cold, found = await index_find(settings)
        warm = [(await index_find(settings))[0] for _ in range(repeats)]
        email_only = [await index_find(settings, EMAIL_ONLY) for _ in range(repeats)]
        cli = [cli_find(settings) for _ in range(3)]
        scan, scanned_hits = await scan_find(settings)
    # The scan is the ground truth for the heavy subject; the e-mail alone must find exactly what was planted.
    assert found == scanned_hits == cli[0][1], (found, scanned_hits, cli[0][1])
    assert email_only[0][1] == PLANTED, email_only[0][1]
    index_warm = statistics.median(warm)
    return {
        "records": exports * per_export, "exports": exports, "records_per_segment": page,
        "segments": exports * -(-per_export // page), "encrypted": True, "subject_records": found,
        "build": build,
        "index_find_seconds": {"cold": round(cold, 3), "warm_median": round(index_warm, 3)},
        "index_find_email_only": {"records": email_only[0][1],
                                  "seconds_median": round(statistics.median(e[0] for e in email_only), 3)},
        "cli_find_seconds": {"median": round(statistics.median(c[0] for c in cli), 3),
                             "runs": [round(c[0], 3) for c in cli]},
        "scan_find_seconds": round(scan, 2),
        "scan_over_index_warm": round(scan / index_warm, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()[0]},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=40)
    parser.add_argument("--records-per-export", type=int, default=25_000)
    parser.add_argument("--page-records", type=int, default=50, help="records per segment (the stage: one page)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(main(args.exports, args.records_per_export, args.page_records, args.repeats))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
