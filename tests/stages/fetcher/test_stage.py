"""The fetcher stage on the real broker: pages and checkpoints in one transaction, resumed after SIGKILL at
random points with exactly the page set of an uninterrupted run, and what an export's status says."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
from pathlib import Path

import msgspec
import pytest

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.export_requests import publish_request
from shared.kafka.tables import read_table, read_topic
from shared.kafka.topics import EXPORTS_STATUS, FETCH_CHECKPOINTS, PAGES_RAW
from shared.messages import ExportRequest, ExportStatus, FetchCheckpoint, PageMessage, RawPage, decode
from shared.settings import Settings
from simulator.config import DEMO_API_KEY
from stages.fetcher.stage import Fetcher
from tests.stages.fetcher.simulated import Sim, export_request, fetch_all, running_sim, sim_config

pytestmark = pytest.mark.timeout(240)


async def published_pages(settings: Settings, export_id: str) -> list[RawPage]:
    pages = []
    async for record in read_topic(settings, settings.kafka.topic(PAGES_RAW)):
        message = decode(record.value, PageMessage)
        if isinstance(message, RawPage) and message.export_id == export_id:
            pages.append(message)
    return sorted(pages, key=lambda p: p.page_index)


async def checkpoint_of(settings: Settings, export_id: str) -> FetchCheckpoint | None:
    table = await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), FetchCheckpoint)
    checkpoint: FetchCheckpoint | None = table.get(export_id.encode())
    return checkpoint


async def status_of(settings: Settings, export_id: str) -> ExportStatus | None:
    table = await read_table(settings, settings.kafka.topic(EXPORTS_STATUS), ExportStatus)
    status: ExportStatus | None = table.get(f"{export_id}:fetcher".encode())
    return status


async def wait_for_status(settings: Settings, export_id: str, states: set[str], timeout: float) -> ExportStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await status_of(settings, export_id)
        if status is not None and status.state in states:
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"export {export_id} never reached {states}")


@pytest.mark.parametrize("source", ["export_job", "odata"])
async def test_sigkill_at_random_points_gives_exactly_the_uninterrupted_page_set(
        topics: Settings, tmp_path: Path, source: str) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    async with running_sim(sim_config(conversations=40, page_delay_seconds=0.15, request_delay_seconds=0.1)) as sim:
        env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers,
                         "CA_TOPIC_PREFIX": topics.kafka.topic_prefix, "CA_INSTANCE_ID": "kill-test",
                         "CA_COGNIGY_BASE_URL": sim.url, "CA_COGNIGY_PAGE_RECORDS": "20",
                         "CA_COGNIGY_ODATA_TOP": "15", "CA_COGNIGY_AUTH": "api_key",
                         "CA_COGNIGY_API_KEY": DEMO_API_KEY, "CA_SHUTDOWN_GRACE_SECONDS": "5"})
        settings = sim.api_key_settings(COGNIGY_ODATA_TOP="15")
        request = export_request(source, export_id=f"exp-kill-{source}")  # type: ignore[arg-type]
        reference = await fetch_all(settings, request)  # the same export, never interrupted
        await publish_request(topics, request)
        procs = ProcessGroup(env, tmp_path / "logs")
        kills: list[int] = []
        procs.start_stage("fetcher")
        await asyncio.sleep(rng.uniform(0.3, 2.0))  # first kill: while starting, creating the job or polling
        for target in sorted(rng.sample(range(1, len(reference.pages) - 1), 3)):  # then after random pages
            checkpoint = await checkpoint_of(topics, request.export_id)
            kills.append(-1 if checkpoint is None else checkpoint.next_page_index)
            procs.kill("fetcher")
            procs.start_stage("fetcher")
            await wait_for_pages(topics, request.export_id, target, 60)
            await asyncio.sleep(rng.uniform(0, 0.2))  # mid-request or mid-transaction
        checkpoint = await checkpoint_of(topics, request.export_id)
        kills.append(-1 if checkpoint is None else checkpoint.next_page_index)
        procs.kill("fetcher")
        procs.start_stage("fetcher")
        status = await wait_for_status(topics, request.export_id, {"fetched", "failed"}, 90)
        procs.stop_all()
        served = [n for job in (await sim.stats())["pages_served"].values() for n in job.values()]
        logs = (tmp_path / "logs" / "fetcher.log").read_text()
    context = f"seed {seed}, pages done at each kill {kills}"
    print(context)
    assert status.state == "fetched", f"{context}: {status.detail}"
    pages = await published_pages(topics, request.export_id)
    assert [p.page_index for p in pages] == list(range(len(reference.pages))), context  # none twice, none skipped
    assert [p.body for p in pages] == [p.body for p in reference.pages], context
    assert [p.source_sha256 for p in pages] == [hashlib.sha256(p.body).hexdigest() for p in pages]
    checkpoint = await checkpoint_of(topics, request.export_id)
    assert checkpoint is not None and checkpoint.done and checkpoint.source == source
    assert checkpoint.bytes == sum(len(p.body) for p in pages) and checkpoint.last_sha256 == pages[-1].source_sha256
    assert status.total_pages == len(pages) and status.records == len(reference.records)
    if source == "export_job":
        # Resumed from the checkpoint: a page already published is not downloaded again (the one in flight
        # at a kill may be, and the reference run fetched each once).
        assert sum(served) <= 2 * len(pages) + len(kills), context
    assert "demo-secret" not in logs and DEMO_API_KEY not in logs
    assert not any(token in logs for token in sim.issued_tokens())


async def wait_for_pages(settings: Settings, export_id: str, pages: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        checkpoint = await checkpoint_of(settings, export_id)
        if checkpoint is not None and checkpoint.next_page_index >= pages:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {export_id} never reached {pages} pages")


async def run_fetcher(settings: Settings, export_id: str) -> ExportStatus:
    stop = asyncio.Event()
    task = asyncio.create_task(Fetcher(settings).run(stop))
    try:
        return await wait_for_status(settings, export_id, {"fetched", "failed"}, 60)
    finally:
        stop.set()
        await task


def stage_settings(topics: Settings, sim: Sim, **env: str) -> Settings:
    base = sim.settings(**env)
    kafka = msgspec.structs.replace(base.kafka, bootstrap_servers=topics.kafka.bootstrap_servers,
                                    topic_prefix=topics.kafka.topic_prefix, instance_id="stage-test")
    return msgspec.structs.replace(base, kafka=kafka)


async def test_a_page_that_never_matches_is_published_as_sent_for_the_verifier_to_dead_letter(
        topics: Settings) -> None:
    async with running_sim(sim_config(corrupt_pages=[1])) as sim:
        settings = stage_settings(topics, sim)
        request = export_request(export_id="exp-corrupt")
        await publish_request(settings, request)
        status = await run_fetcher(settings, request.export_id)
    assert status.state == "fetched" and "pages [1] never matched their checksum" in status.detail
    pages = await published_pages(settings, request.export_id)
    assert [p.source_sha256 == hashlib.sha256(p.body).hexdigest() for p in pages] == [
        i != 1 for i in range(len(pages))]
    checkpoint = await checkpoint_of(settings, request.export_id)
    assert checkpoint is not None and checkpoint.mismatched_pages == [1]


@pytest.mark.parametrize(("faults", "fields", "detail"), [
    ({"job_fails_with": "index shard 3 unavailable"}, {}, "job .* failed: index shard 3 unavailable"),
    ({}, {"client_scopes": ["conversations:read"]}, r"forbidden \(403\): missing scope export:manage"),
])
async def test_a_failed_export_says_why(topics: Settings, faults: dict[str, str], fields: dict[str, list[str]],
                                        detail: str) -> None:
    async with running_sim(sim_config(faults=faults, **fields)) as sim:
        settings = stage_settings(topics, sim)
        request = export_request(export_id="exp-fails")
        await publish_request(settings, request)
        status = await run_fetcher(settings, request.export_id)
    assert status.state == "failed"
    assert re.search(detail, status.detail), status.detail


async def test_rest_backfill_through_the_stage(topics: Settings) -> None:
    async with running_sim(sim_config()) as sim:
        settings = stage_settings(topics, sim, COGNIGY_AUTH="api_key", COGNIGY_API_KEY=DEMO_API_KEY)
        sessions = sorted(sim.state.sessions)[:5]
        request: ExportRequest = export_request("rest", session_ids=sessions, export_id="exp-rest")
        await publish_request(settings, request)
        status = await run_fetcher(settings, request.export_id)
    assert status.state == "fetched" and status.total_pages == 5
    pages = await published_pages(settings, request.export_id)
    assert [p.page_index for p in pages] == list(range(5))
