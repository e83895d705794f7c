"""Data-subject requests on a real, encrypted archive: three exports made by the five stage processes from
the simulator, then `cognigy-archiver subject find|export|erase` run as a user runs them. What they find
and remove is checked against the simulator's ground truth: the records where the person's e-mail or
phone number was planted, and the records of their contact id; none missed, none extra."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cognigy_archiver.local_pipeline import Pipeline, start_pipeline
from shared.archive.audit import verify_log
from shared.archive.encryption import is_sealed
from shared.archive.keystore import open_key_store
from shared.archive.manifest import read_manifest
from shared.archive.reader import read_export_records, verify_export
from shared.archive.segments import meta_key
from shared.archive.storage import FilesystemStore
from shared.export_requests import build_request, publish_request
from shared.settings import Settings
from simulator.server import dataset_window
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.email import ENTITY_TYPE as EMAIL
from stages.sanitizer.recognizers.email import EmailRecognizer
from stages.sanitizer.recognizers.phone import ENTITY_TYPE as PHONE
from stages.sanitizer.recognizers.phone import PhoneRecognizer

pytestmark = pytest.mark.timeout(420)
EXPORTS = 3
MASTER_KEY = base64.b64encode(bytes(range(100, 132))).decode()


@pytest.fixture
async def pipeline(settings: Settings, tmp_path: Path) -> AsyncIterator[Pipeline]:
    running = await start_pipeline(settings, tmp_path, "--conversations", "150", extra_env={
        "CA_ARCHIVE_ENCRYPTION": "aes-256-gcm", "CA_ARCHIVE_MASTER_KEY": MASTER_KEY})
    try:
        yield running
    finally:
        running.procs.stop_all()
        await running.receiver.stop()


async def archive_three_exports(pipeline: Pipeline) -> list[str]:
    """The dataset's window cut in three, one export each."""
    start, end = dataset_window()
    cuts = [start + (end - start) * i / EXPORTS for i in range(EXPORTS + 1)]
    export_ids = []
    for index in range(EXPORTS):
        request = build_request(cuts[index].isoformat(), cuts[index + 1].isoformat(), [], [], "jsonl", None, None,
                                f"exp-{index}")
        await publish_request(pipeline.settings, request)
        export_ids.append(request.export_id)
    await pipeline.wait_until(lambda: len(pipeline.receiver.unique_events) == EXPORTS, 300, "three exports")
    return export_ids


class Truth:
    """The simulator's records and planted PII, normalized the way the sanitizer's recognizers do."""

    def __init__(self, records: list[dict[str, Any]], planted: list[dict[str, Any]], settings: Settings) -> None:
        self.records = {r["id"]: r for r in records}
        phones = PhoneRecognizer(settings.pii.phone_region_list)
        self.normalized: dict[str, dict[str, set[str]]] = {EMAIL: {}, PHONE: {}}  # type -> value -> record ids
        self.raw: dict[tuple[str, str], str] = {}  # (type, normalized) -> a raw form as planted
        for pii in planted:
            recognizer = EmailRecognizer() if pii["entity_type"] == EMAIL else phones
            if pii["entity_type"] not in self.normalized:
                continue
            detections = recognizer.detect(pii["value"], TextContext(expected=frozenset({pii["entity_type"]})))
            whole = [d for d in detections if d.start == 0 and d.end == len(pii["value"])]
            assert whole, f"the recognizer does not read a planted {pii['entity_type']} whole"
            self.normalized[pii["entity_type"]].setdefault(whole[0].normalized, set()).add(pii["record_id"])
            self.raw.setdefault((pii["entity_type"], whole[0].normalized), pii["value"])

    def of_contact(self, contact: str) -> set[str]:
        return {i for i, r in self.records.items() if r["contactId"] == contact}

    def of_sessions(self, ids: set[str]) -> set[str]:
        sessions = {self.records[i]["sessionId"] for i in ids}
        return {i for i, r in self.records.items() if r["sessionId"] in sessions}

    def subject(self, export_of: dict[str, str]) -> tuple[dict[str, list[str]], set[str], dict[str, set[str]]]:
        """A contact whose records span two exports, with an e-mail address and a phone number they gave:
        the request, the ids of every record it must find, and those where each of the e-mail address and the
        phone number was planted (option -> ids)."""
        for contact in sorted({r["contactId"] for r in self.records.values()}):
            theirs = self.of_contact(contact)
            if len({export_of[i] for i in theirs}) < 2:
                continue
            emails = [e for e, ids in sorted(self.normalized[EMAIL].items()) if ids & theirs and "@" in
                      self.raw[(EMAIL, e)]]
            phones = [p for p, ids in sorted(self.normalized[PHONE].items()) if ids & theirs]
            if emails and phones:
                request = {"email": [self.raw[(EMAIL, emails[0])].upper()], "phone": [self.raw[(PHONE, phones[0])]],
                           "contact_id": [contact]}
                planted = {"--email": self.normalized[EMAIL][emails[0]], "--phone": self.normalized[PHONE][phones[0]]}
                return request, theirs | planted["--email"] | planted["--phone"], planted
        raise AssertionError("no contact spans two exports")


def cli(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**pipeline.procs.env, "CA_LOG_LEVEL": "INFO"}
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=pipeline.work_dir)


def archive_files(archive: Path) -> dict[str, str]:
    return {str(p.relative_to(archive)): hashlib.sha256(p.read_bytes()).hexdigest() for p in archive.rglob("*")
            if p.is_file() and "@audit" not in p.parts}


async def archived_ids(settings: Settings, export_ids: list[str]) -> dict[str, str]:
    """Record id -> export, read back (decrypted) from the archive."""
    async with open_key_store(settings) as keys:
        store = FilesystemStore(settings.archive.path)
        return {r["id"]: e for e in export_ids for r in await read_export_records(store, e, keys)}


async def test_find_export_and_erase_a_subject_across_encrypted_exports(pipeline: Pipeline, tmp_path: Path) -> None:
    settings = pipeline.settings
    export_ids = await archive_three_exports(pipeline)
    store = FilesystemStore(settings.archive.path)
    for export_id in export_ids:
        manifest = await read_manifest(store, export_id)
        assert manifest.encryption is not None and manifest.subject_index is not None
        assert all([is_sealed(await store.get(s.key)) for s in manifest.segments])
    before = await archived_ids(settings, export_ids)
    truth = Truth(await pipeline.simulator_lines("/_sim/records"), await pipeline.simulator_lines("/_sim/ground-truth"),
                  settings)
    assert set(before) == set(truth.records)
    request, expected, planted = truth.subject(before)
    assert len({before[i] for i in expected}) >= 2, "the subject must span several exports"
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))

    # find: exactly the planted records and the contact's, with where they sit.
    found = cli(pipeline, "subject", "find", "--request-file", str(request_file), "--json", "--reason", "DSR-1")
    assert found.returncode == 0, found.stderr
    locations = [json.loads(line) for line in found.stdout.splitlines()]
    assert {loc["record_id"] for loc in locations} == expected
    assert len(locations) == len(expected)
    assert all(before[loc["record_id"]] == loc["export_id"] and loc["timestamp"] for loc in locations)
    # Each identifier alone: the contact id must not be what finds them all.
    for option, value in (("--email", request["email"][0]), ("--phone", request["phone"][0])):
        alone = cli(pipeline, "subject", "find", option, value, "--json")
        assert alone.returncode == 0, alone.stderr
        ids = [json.loads(line)["record_id"] for line in alone.stdout.splitlines()]
        assert set(ids) == planted[option] and len(ids) == len(planted[option]), option
    whole = cli(pipeline, "subject", "find", "--request-file", str(request_file), "--json", "--whole-conversation")
    assert {json.loads(line)["record_id"] for line in whole.stdout.splitlines()} == truth.of_sessions(expected)

    # export: one JSON document with those records, as archived (sanitized).
    document_path = tmp_path / "subject.json"
    exported = cli(pipeline, "subject", "export", "--request-file", str(request_file), "--out", str(document_path))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(document_path.read_text())
    held = [entry["record"] for export in document["exports"] for entry in export["records"]]
    assert {r["id"] for r in held} == expected and document["records"] == len(expected)
    assert document["exports_searched"] == EXPORTS

    # erase: exactly those records go; every other object stays byte-identical; every export verifies.
    files_before = archive_files(settings.archive.path)
    dry = cli(pipeline, "subject", "erase", "--request-file", str(request_file))
    assert dry.returncode == 0 and "run again with --yes" in dry.stdout
    assert archive_files(settings.archive.path) == files_before
    erased = cli(pipeline, "subject", "erase", "--request-file", str(request_file), "--yes", "--reason", "DSR-1")
    assert erased.returncode == 0, erased.stderr
    assert f"{len(expected)} record(s) erased from" in erased.stdout
    after = await archived_ids(settings, export_ids)
    assert set(after) == set(before) - expected
    files_after = archive_files(settings.archive.path)
    changed = {k for k in files_before if files_after.get(k) != files_before[k]}
    touched_exports = {loc["export_id"] for loc in locations}
    # Only the segments that held the records were rewritten (the old objects gone), only the touched exports'
    # manifests and subject indexes changed; every other object is byte-identical.
    held_in = {loc["segment"] for loc in locations}
    assert changed == held_in | {meta_key(k) for k in held_in} | {
        f"{e}/{name}" for e in touched_exports for name in ("manifest.json", "subjects.idx")}
    assert not held_in & set(files_after)
    assert len({k for k in set(files_after) - set(files_before) if k.endswith(".zst")}) == len(held_in)
    async with open_key_store(settings) as keys:
        for export_id in export_ids:
            report = await verify_export(store, export_id, keys)
            assert report.ok and report.plaintext_checked, report.problems
    assert cli(pipeline, "archive", "verify", export_ids[0]).returncode == 0

    # Again: nothing held, nothing changed.
    again = cli(pipeline, "subject", "erase", "--request-file", str(request_file), "--yes", "--reason", "DSR-1")
    assert again.returncode == 0 and "nothing held for this person" in again.stdout
    assert archive_files(settings.archive.path) == files_after
    assert [json.loads(line) for line in cli(pipeline, "subject", "find", "--request-file", str(request_file),
                                             "--json").stdout.splitlines()] == []

    # Another person, named by an e-mail address only: with --whole-conversation, every record of the
    # sessions where it was given goes, not just the records that hold it.
    email, with_email = next((e, ids) for e, ids in sorted(truth.normalized[EMAIL].items())
                             if "@" in truth.raw[(EMAIL, e)] and not ids & expected)
    gone = truth.of_sessions(with_email)
    assert len(gone) > len(with_email)
    # Re-keyed too: the exports it touched are sealed under a new data key, the old one destroyed.
    result = cli(pipeline, "subject", "erase", "--email", truth.raw[(EMAIL, email)], "--whole-conversation", "--yes",
                 "--rekey", "--reason", "DSR-2")
    assert result.returncode == 0, result.stderr
    assert set(await archived_ids(settings, export_ids)) == set(after) - gone
    touched = {after[i] for i in gone}
    key_files = {p.parent.name: p.name for p in Path(settings.archive.key_store).rglob("*.json")}
    assert {e for e, name in key_files.items() if name != "data-key.json"} == touched
    assert all(key_files[e].startswith("data-key.g") for e in touched)

    # Audited, and no raw identifier in the audit log or anything the commands printed.
    audit = Path(settings.audit.log_path)
    assert verify_log(audit, settings.audit.hmac_key.reveal().encode()) == []
    actions = [json.loads(line)["action"] for line in audit.read_text().splitlines()]
    assert {"subject search", "subject export", "subject records erased", "subject erase: nothing held"} <= set(
        actions)
    said = audit.read_text() + "".join(r.stdout + r.stderr for r in (found, whole, exported, dry, erased, again,
                                                                      result))
    said += "".join(p.read_text(errors="replace") for p in (pipeline.work_dir / "logs").glob("*.log"))
    phone_e164 = next(v for (entity, v), raw in truth.raw.items() if entity == PHONE and raw == request["phone"][0])
    for value in [*request["email"], *request["phone"], request["email"][0].lower(), phone_e164,
                  *request["contact_id"], truth.raw[(EMAIL, email)]]:
        assert value not in said
    assert datetime.fromisoformat(document["generated_at"])
