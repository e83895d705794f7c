"""The whole pipeline on real parts: the simulator and five stage processes over the real broker."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cognigy_archiver.local_pipeline import PAGE_SIZE, Pipeline, record_hash, sanitized_as_served, start_pipeline
from shared.archive.audit import verify_log
from shared.archive.manifest import read_manifest
from shared.archive.reader import read_export_records, verify_export
from shared.archive.storage import FilesystemStore
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, PAGES_SANITIZED, TRANSCRIPTS_SANITIZED
from shared.messages import DeadLetter, SanitizedMessage, SanitizedPage, decode
from shared.settings import Settings
from stages.notifier.webhook_payloads import ArchivalCompletedEvent

pytestmark = pytest.mark.timeout(300)


@asynccontextmanager
async def running_pipeline(settings: Settings, tmp_path: Path, *simulator_args: str) -> AsyncIterator[Pipeline]:
    # A little latency per page, so "halfway" lasts long enough to kill a stage in it.
    running = await start_pipeline(settings, tmp_path, "--conversations", "120", "--page-delay", "0.05",
                                   *simulator_args)
    try:
        yield running
    finally:
        started = time.monotonic()
        codes = running.procs.stop_all()
        drain = time.monotonic() - started
        await running.receiver.stop()
    # Every stage drains and exits 0 on SIGTERM, well within the 30 s grace period.
    assert {n: c for n, c in codes.items() if c != 0} == {}, running.tail_logs()
    assert drain < 30


@pytest.fixture
async def pipeline(settings: Settings, tmp_path: Path) -> AsyncIterator[Pipeline]:
    async with running_pipeline(settings, tmp_path) as running:
        yield running


async def expected_archive(pipeline: Pipeline) -> dict[str, str]:
    """What the archive must hold: every record the simulator has for the window, as id -> content hash."""
    return sanitized_as_served(await pipeline.simulator_lines("/_sim/records"), PAGE_SIZE, pipeline.settings)


async def archived_records(pipeline: Pipeline, export_id: str) -> list[dict[str, Any]]:
    return await read_export_records(FilesystemStore(pipeline.archive), export_id)


async def assert_export_is_exact(pipeline: Pipeline, export_id: str) -> None:
    event = await pipeline.wait_for_webhook()
    # Exactly one event, validly signed (the receiver checked the Standard Webhooks signature).
    assert len(pipeline.receiver.unique_events) == 1
    assert all(d.verified for d in pipeline.receiver.deliveries)
    assert event["type"] == "archival.completed"
    msgspec.convert(event, ArchivalCompletedEvent)  # as published (docs/schemas/), no field more or less
    assert event["data"]["export_id"] == export_id and event["data"]["partial"] is False

    expected = await expected_archive(pipeline)
    archived = await archived_records(pipeline, export_id)
    ids = [r["id"] for r in archived]
    assert len(ids) == len(set(ids)), "duplicate records in the archive"
    assert len(archived) == len(expected) == event["data"]["records"]
    assert {r["id"]: record_hash(r) for r in archived} == expected

    report = await verify_export(FilesystemStore(pipeline.archive), export_id)
    assert report.ok, report.problems

    planted = await pipeline.simulator_lines("/_sim/ground-truth")
    assert len(planted) > 50
    archive_text = json.dumps(archived)
    sanitized_text = ""
    for value in await topic_values(pipeline.settings, PAGES_SANITIZED):
        message = decode(value, SanitizedMessage)
        if isinstance(message, SanitizedPage):
            sanitized_text += json.dumps(message.records)
    # The public topic's JSON as sent (its escapes decoded), every message of it.
    sanitized_text += "".join(json.dumps(json.loads(value or b"null"))
                              for value in await topic_values(pipeline.settings, TRANSCRIPTS_SANITIZED))
    leaked = sorted({p["value"] for p in planted if p["value"] in archive_text or p["value"] in sanitized_text})
    assert leaked == [], f"{len(leaked)} planted PII values leaked"

    audit = Path(pipeline.settings.audit.log_path)
    actions = [json.loads(line)["action"] for line in audit.read_text().splitlines()]
    assert actions.count("export archived") == 1
    assert verify_log(audit, pipeline.settings.audit.hmac_key.reveal().encode()) == []


async def test_export_flows_through_five_processes_into_a_verified_archive(pipeline: Pipeline) -> None:
    request = await pipeline.submit()
    await assert_export_is_exact(pipeline, request.export_id)
    assert len(pipeline.receiver.deliveries) == 1


@pytest.mark.parametrize("victim", ["fetcher", "verifier", "sanitizer", "archiver", "notifier"])
async def test_stage_killed_halfway_and_restarted_gives_the_same_archive(pipeline: Pipeline, victim: str) -> None:
    request = await pipeline.submit()
    export_id = request.export_id
    total_pages = -(-len(await pipeline.simulator_lines("/_sim/records")) // PAGE_SIZE)
    if victim == "fetcher":
        await pipeline.wait_until_fetched(total_pages // 3)
    else:
        await pipeline.wait_until(lambda: pipeline.archived_pages(export_id) >= total_pages // 3, 120,
                                  "a third of the pages archived")
    pipeline.procs.kill(victim)
    pipeline.procs.start_stage(victim)
    await assert_export_is_exact(pipeline, export_id)
    if victim == "fetcher":
        # Resumed from its checkpoint: no page was fetched twice (a page in flight at the kill may be).
        served = await pipeline.pages_served()
        assert len(served) == total_pages and sum(served) <= total_pages + 1, served


async def test_a_stage_stopped_with_sigterm_midway_drains_and_resumes_exactly(pipeline: Pipeline) -> None:
    """What a rolling update does: SIGTERM mid-export; the stage commits its batch in flight, leaves the
    group, exits 0, and its replacement carries on with nothing lost and nothing doubled."""
    request = await pipeline.submit()
    total_pages = -(-len(await pipeline.simulator_lines("/_sim/records")) // PAGE_SIZE)
    await pipeline.wait_until(lambda: pipeline.archived_pages(request.export_id) >= total_pages // 3, 120,
                              "a third of the pages archived")
    started = time.monotonic()
    assert pipeline.procs.stop("sanitizer") == 0
    assert time.monotonic() - started < 30
    pipeline.procs.start_stage("sanitizer")
    await assert_export_is_exact(pipeline, request.export_id)


async def test_a_page_that_never_matches_its_checksum_makes_the_export_partial(settings: Settings,
                                                                                tmp_path: Path) -> None:
    async with running_pipeline(settings, tmp_path, "--corrupt-page", "2") as pipeline:
        request = await pipeline.submit()
        event = await pipeline.wait_for_webhook()
        data = msgspec.convert(event, ArchivalCompletedEvent).data
        assert data.partial is True and data.dead_pages == [2]
        letters = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]
        assert [(d.error_type, d.export_id, d.stage) for d in letters] == [
            ("ChecksumMismatch", request.export_id, "verifier")]
        expected = await expected_archive(pipeline)
        archived = await archived_records(pipeline, request.export_id)
        missing = set(expected) - {r["id"] for r in archived}
        assert len(missing) == PAGE_SIZE  # exactly the dead page's records, and nothing else
        assert data.records == len(archived) == len(expected) - PAGE_SIZE
        # The public topic tells every partition's consumers that page 2 is withheld, and publishes none of it.
        public = [json.loads(v) for v in await topic_values(pipeline.settings, TRANSCRIPTS_SANITIZED)]
        assert [(m["page_index"], m["dead"]) for m in public if m["type"] == "page_withheld"] == [
            (2, True)] * pipeline.settings.kafka.page_partitions
        published_pages = {m["page_index"] for m in public if m["type"] == "transcript_record"}
        assert published_pages == set(range(data.pages or 0)) - {2}
        manifest = await read_manifest(FilesystemStore(pipeline.archive), request.export_id)
        assert manifest.partial and manifest.dead_pages == [2]
        assert (await verify_export(FilesystemStore(pipeline.archive), request.export_id)).ok


async def test_an_answer_just_after_a_page_break_is_still_explained_by_the_question(settings: Settings,
                                                                                    tmp_path: Path) -> None:
    """With 9-record pages, three names in the simulator's data are answers to "what's your name?" asked on
    the page before (found by trying page sizes; without the context the fetcher carries over they leak).
    None may reach the archive, and the carried-over records must not be archived twice."""
    async with running_pipeline(settings, tmp_path, "--page-size", "9") as pipeline:
        request = await pipeline.submit()
        event = await pipeline.wait_for_webhook()
        archived = await archived_records(pipeline, request.export_id)
        records = await pipeline.simulator_lines("/_sim/records")
        assert len(archived) == len({r["id"] for r in archived}) == len(records) == event["data"]["records"]
        planted = await pipeline.simulator_lines("/_sim/ground-truth")
        archive_text = json.dumps(archived)
        assert sorted({p["value"] for p in planted if p["value"] in archive_text}) == []
