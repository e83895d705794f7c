"""Findings 9 and 10, as the real stages write them: the notifier seals each manifest and records its
SHA-256 in the audit log, the log's signed head checkpoint follows in the storage, and the
`archival.completed` webhook carries the log's head as of the export's entry (a copy of the anchor no one
with access to the archive can roll back)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shared.archive.audit import read_checkpoint, verify_head
from shared.archive.manifest import ManifestTrust, unrecorded_manifests
from shared.archive.reader import verify_export
from shared.archive.storage import FilesystemStore
from shared.settings import Settings
from stages.archiver import stage as archiver
from stages.notifier import stage as notifier
from tests.stages.notifier.test_notifier import audit_actions, configured, running, submit, until
from tests.stages.notifier.webhook_receivers import Receiver, start


async def test_the_notifier_seals_records_and_anchors_each_manifest(topics: Settings,
                                                                    receivers: list[Receiver]) -> None:
    receiver = await start(receivers)
    settings = configured(topics, receiver, events="archival.completed")
    await submit(settings, "exp-anchored", 3)
    async with running(settings, archiver.run, notifier.run):
        await until(lambda: ("webhook delivered", "exp-anchored") in audit_actions(settings), 60, "the delivery")
    store = FilesystemStore(settings.archive.path)
    key = settings.audit.hmac_key.reveal().encode()
    log = Path(settings.audit.log_path)
    lines = log.read_bytes().splitlines()
    [archived] = [n for n, line in enumerate(lines, 1) if json.loads(line)["action"] == "export archived"]
    data = receiver.accepted()[0].body["data"]
    assert data["audit_head"] == {"seq": archived, "sha256": hashlib.sha256(lines[archived - 1]).hexdigest()}
    manifest = await store.get("exp-anchored/manifest.json")
    assert data["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert b'"hmac_sha256": "' in manifest
    report = await verify_export(store, "exp-anchored", None, await ManifestTrust.load(key, log, store))
    assert report.ok and report.authenticated, report.problems
    assert report.authenticity.startswith(f"HMAC, and recorded in entry {archived} (export archived)")
    head = await read_checkpoint(store, key)
    assert head is not None and head.seq == len(lines)
    assert await verify_head(lines, store, key) == [] and await unrecorded_manifests(store, lines, key) == []
