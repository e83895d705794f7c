"""A schedule's overlapping windows on the real broker: the second window lists exactly the records the first
passed on as duplicate ids, with the bodies as the source sent them, so every record of the two windows is
passed on once, also when the fetcher is SIGKILLed in the middle; remembered ids no later window reads back to
are tombstoned. And the fetcher's statuses name the request they answer."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.export_requests import publish_request
from shared.kafka.tables import read_table, read_topic
from shared.kafka.topics import EXPORTS_STATUS, FETCH_CHECKPOINTS
from shared.messages import (
    CheckpointEntry,
    Deduplication,
    ExportRequest,
    ExportStatus,
    FetchCheckpoint,
    FetchedIds,
    RawPage,
    TimeWindow,
    decode,
)
from shared.settings import Settings
from simulator.config import DEMO_API_KEY, Faults
from stages.fetcher.deduplication import NO_IDS, Deduplicator, ids_key
from stages.fetcher.pages import FetchedPage, local_page
from stages.fetcher.stage import Fetcher
from tests.stages.fetcher.simulated import PAGE_SIZE, Sim, export_request, fetch_all, running_sim, sim_config
from tests.stages.fetcher.test_stage import published_pages, stage_settings, wait_for_pages

pytestmark = pytest.mark.timeout(180)
SCOPE = "continuous"


def timestamps(sim: Sim) -> list[datetime]:
    return [datetime.fromisoformat(r["timestamp"]) for r in sim.state.dataset.records]


def two_windows(sim: Sim) -> tuple[ExportRequest, ExportRequest]:
    """Window 1 reads records 0-119 and remembers 75-119; window 2 reads 75-199 (45 records again, over its pages
    0-2) and remembers from record 90: window 1's page 3 (records 75-79) is then read by no later window."""
    at = timestamps(sim)
    first = window_request(sim, "w1", sim.state.config.dataset_start, at[120], remember_from=at[75])
    return first, window_request(sim, "w2", at[75], at[200], remember_from=at[90])


def window_request(sim: Sim, export_id: str, start: datetime, end: datetime, *, remember_from: datetime,
                   **fields: Any) -> ExportRequest:
    return msgspec.structs.replace(export_request(export_id=export_id), window=TimeWindow(start, end),
                                   requested_at=datetime.now(UTC),
                                   deduplication=Deduplication(scope=SCOPE, remember_from=remember_from), **fields)


def ids_in(sim: Sim, start: datetime, end: datetime) -> list[str]:
    return [r["id"] for r, at in zip(sim.state.dataset.records, timestamps(sim), strict=True) if start <= at < end]


def page_ids(page: RawPage) -> list[str]:
    return [r["id"] for r in msgspec.json.decode(page.body)["items"]]


def passed_on(pages: list[RawPage]) -> list[str]:
    return [i for page in pages for i in page_ids(page) if i not in page.duplicate_ids]


async def fetched_ids(settings: Settings) -> dict[bytes, FetchedIds]:
    table = await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), CheckpointEntry)
    return {key: entry for key, entry in table.items() if isinstance(entry, FetchedIds)}


async def fetcher_statuses(settings: Settings, export_id: str) -> list[ExportStatus]:
    """Every status the fetcher wrote for the export, oldest first (the topic is not compacted this soon)."""
    key = f"{export_id}:fetcher".encode()
    return [decode(r.value, ExportStatus) async for r in read_topic(settings, settings.kafka.topic(EXPORTS_STATUS))
            if r.key == key and r.value is not None]


async def answer_to(settings: Settings, request: ExportRequest, states: set[str], timeout: float = 60) -> ExportStatus:
    """The fetcher's latest status once it answers `request` (names its requested_at) with one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = await fetcher_statuses(settings, request.export_id)
        if statuses and statuses[-1].requested_at == request.requested_at and statuses[-1].state in states:
            return statuses[-1]
        assert time.monotonic() < deadline, f"no {states} answer to {request.export_id} at {request.requested_at}"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def fetcher(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(Fetcher(settings).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def assert_each_record_passed_on_once(settings: Settings, sim: Sim, first: ExportRequest,
                                            second: ExportRequest) -> tuple[list[RawPage], list[RawPage]]:
    assert first.window is not None and second.window is not None
    pages_1, pages_2 = [await published_pages(settings, r.export_id) for r in (first, second)]
    reference = await fetch_all(sim.settings(), second)  # the same window without de-duplication
    assert [p.body for p in pages_2] == [p.body for p in reference.pages]  # as the source sent them
    assert all(p.source_sha256 == hashlib.sha256(p.body).hexdigest() for p in pages_1 + pages_2)
    assert all(not p.duplicate_ids for p in pages_1)
    overlap = ids_in(sim, second.window.start, first.window.end)
    assert [i for p in pages_2 for i in p.duplicate_ids] == overlap
    assert all(set(p.duplicate_ids) <= set(page_ids(p)) for p in pages_2)
    assert [len(p.duplicate_ids) for p in pages_2][:4] == [PAGE_SIZE, PAGE_SIZE, 5, 0]  # over three pages
    assert sorted(passed_on(pages_1) + passed_on(pages_2)) == sorted(ids_in(sim, first.window.start,
                                                                            second.window.end))
    checkpoints = await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), CheckpointEntry)
    cp = checkpoints[second.export_id.encode()]
    assert cp.done and (cp.records, cp.duplicates) == (len(passed_on(pages_2)), len(overlap))
    return pages_1, pages_2


async def test_overlapping_windows_pass_each_record_on_once_and_forget_what_no_window_reads(topics: Settings) -> None:
    async with running_sim(sim_config()) as sim:
        settings = stage_settings(topics, sim)
        first, second = two_windows(sim)
        async with fetcher(settings):
            await publish_request(settings, first)
            await answer_to(settings, first, {"fetched"})
            remembered_by_first = await fetched_ids(settings)
            await publish_request(settings, second)
            status = await answer_to(settings, second, {"fetched"})
        await assert_each_record_passed_on_once(settings, sim, first, second)
        assert first.deduplication is not None and second.deduplication is not None
        at = timestamps(sim)
    assert status.records == 80 and "45 records skipped: already fetched by earlier windows of schedule continuous" in (
        status.detail)
    # Window 1 remembered its records from record 75 on, page by page (pages 3-5); pages 0-2 had none to remember.
    assert sorted(remembered_by_first) == [ids_key("w1", i) for i in (3, 4, 5)]
    assert [i for _, e in sorted(remembered_by_first.items()) for i in e.ids] == ids_in(
        sim, first.deduplication.remember_from, at[120])
    # Window 2's remember_from is record 90: window 1's page 3 (its newest is record 79) is read by no later
    # window and is tombstoned; window 2's pages 0 and 1 were all duplicates and remembered nothing.
    remembered = await fetched_ids(settings)
    assert sorted(remembered) == [ids_key("w1", 4), ids_key("w1", 5), *(ids_key("w2", i) for i in range(2, 7))]
    assert all(e.newest >= second.deduplication.remember_from for e in remembered.values())
    tombstones = [r.key async for r in read_topic(settings, settings.kafka.topic(FETCH_CHECKPOINTS)) if r.value is None]
    assert tombstones == [ids_key("w1", 3)]


async def test_sigkilled_during_the_second_window_each_record_is_still_passed_on_once(
        topics: Settings, tmp_path: Path) -> None:
    async with running_sim(sim_config()) as sim:
        settings = stage_settings(topics, sim)
        first, second = two_windows(sim)
        procs = ProcessGroup(child_env({
            "CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers, "CA_TOPIC_PREFIX": topics.kafka.topic_prefix,
            "CA_INSTANCE_ID": "dedup-kill", "CA_COGNIGY_BASE_URL": sim.url, "CA_COGNIGY_PAGE_RECORDS": str(PAGE_SIZE),
            "CA_COGNIGY_AUTH": "api_key", "CA_COGNIGY_API_KEY": DEMO_API_KEY}), tmp_path / "logs")
        try:
            procs.start_stage("fetcher")
            await publish_request(settings, first)
            await answer_to(settings, first, {"fetched"})
            set_page_delay(sim, 0.6)  # slow enough to be killed between two pages
            await publish_request(settings, second)
            # Killed once its pages 0-1 (all duplicates) are committed: the duplicates of page 2 are known only
            # from the ids the killed process wrote.
            await wait_for_pages(settings, second.export_id, 2, 60)
            procs.kill("fetcher")
            cp = (await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), FetchCheckpoint))[b"w2"]
            assert cp.next_page_index == 2, cp
            set_page_delay(sim, 0)
            procs.start_stage("fetcher")
            await answer_to(settings, second, {"fetched"})
        finally:
            procs.stop_all()
        await assert_each_record_passed_on_once(settings, sim, first, second)


def set_page_delay(sim: Sim, seconds: float) -> None:
    sim.state.config = msgspec.structs.replace(sim.state.config, page_delay_seconds=seconds)


async def test_a_resubmission_after_a_failure_is_answered_fetching_then_fetched_and_so_is_a_repeat(
        topics: Settings) -> None:
    async with running_sim(sim_config(page_delay_seconds=0.1)) as sim:
        settings = stage_settings(topics, sim)
        request = msgspec.structs.replace(export_request(export_id="exp-answers"), requested_at=datetime.now(UTC))
        async with fetcher(settings):
            await publish_request(settings, request)
            await wait_for_pages(settings, request.export_id, 2, 30)
            sim.state.config = msgspec.structs.replace(sim.state.config, faults=Faults(error_every=1, error_status=403))
            failed = await answer_to(settings, request, {"failed"})
            sim.state.config = msgspec.structs.replace(sim.state.config, faults=Faults())
            before = len(await fetcher_statuses(settings, request.export_id))

            again = msgspec.structs.replace(request, requested_at=datetime.now(UTC))
            await publish_request(settings, again)
            fetched = await answer_to(settings, again, {"fetched"})
            answers = (await fetcher_statuses(settings, request.export_id))[before:]

            repeated = msgspec.structs.replace(request, requested_at=datetime.now(UTC))
            await publish_request(settings, repeated)
            repeat = await answer_to(settings, repeated, {"fetched"})
    assert "forbidden" in failed.detail
    assert [(s.state, s.requested_at) for s in answers] == [("fetching", again.requested_at),
                                                             ("fetched", again.requested_at)]
    assert answers[0].pages >= 2  # resumed where it stopped, and says so
    assert (repeat.pages, repeat.records, repeat.total_pages) == (fetched.pages, fetched.records, fetched.total_pages)
    assert fetched.records == len(sim.state.dataset.records)  # the request's window holds them all


async def test_a_resubmitted_export_whose_job_failed_before_any_page_gets_one_new_job_per_resubmission(
        topics: Settings) -> None:
    async with running_sim(sim_config(faults={"job_fails_with": "index shard 3 unavailable"})) as sim:
        settings = stage_settings(topics, sim)
        request = msgspec.structs.replace(export_request(export_id="exp-job"), requested_at=datetime.now(UTC))
        async with fetcher(settings):
            await publish_request(settings, request)
            await answer_to(settings, request, {"failed"})
            [dead_job] = sim.state.jobs
            # Resubmitted while jobs still fail: one new job, which fails too; the export fails as before.
            second = msgspec.structs.replace(request, requested_at=datetime.now(UTC))
            await publish_request(settings, second)
            failed_again = await answer_to(settings, second, {"failed"})
            jobs_after_second = list(sim.state.jobs)
            sim.state.config = msgspec.structs.replace(sim.state.config, faults=Faults())
            third = msgspec.structs.replace(request, requested_at=datetime.now(UTC))
            await publish_request(settings, third)
            fetched = await answer_to(settings, third, {"fetched"})
        cp = (await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), FetchCheckpoint))[b"exp-job"]
        jobs = list(sim.state.jobs)
        served = (await sim.stats())["pages_served"]
    assert "index shard 3 unavailable" in failed_again.detail
    assert len(jobs_after_second) == 2 and len(jobs) == 3 and jobs[0] == dead_job
    assert cp.done and cp.job_id == jobs[2] and list(served) == [jobs[2]]
    assert fetched.records == len(sim.state.dataset.records) and fetched.total_pages == cp.next_page_index


def page_of(records: list[dict[str, Any]], verified: bool = True) -> FetchedPage:
    page = local_page(records, resume_token=None)
    return page if verified else FetchedPage(page.body, "0" * 64, page.records, None, verified=False)


def test_ids_without_an_id_pass_undated_ones_are_remembered_and_unverified_pages_are_left_alone() -> None:
    start, remember_from, end = (datetime(2025, 1, day, tzinfo=UTC) for day in (1, 10, 20))
    request = ExportRequest(export_id="w", window=TimeWindow(start, end),
                            deduplication=Deduplication(scope=SCOPE, remember_from=remember_from))
    earlier = FetchedIds(scope=SCOPE, export_id="w0", page_index=0, ids=["seen"], newest=remember_from)
    other_scope = FetchedIds(scope="backfill", export_id="b", page_index=0, ids=["theirs"], newest=remember_from)
    dedup = Deduplicator({ids_key("w0", 0): earlier, ids_key("b", 0): other_scope})
    records = [{"id": "seen", "timestamp": "2025-01-12T00:00:00Z"}, {"timestamp": "2025-01-12T00:00:00Z"},
               {"id": "old", "timestamp": "2025-01-02T00:00:00Z"}, {"id": "undated", "timestamp": "yesterday"},
               {"_id": "v23", "timestamp": "2025-01-11T00:00:00"},
               {"id": "theirs", "timestamp": "2025-01-15T00:00:00Z"}]
    ids = dedup.examine(request, 3, page_of(records))
    assert ids.duplicates == ["seen"]
    assert ids.fetched == FetchedIds(scope=SCOPE, export_id="w", page_index=3, ids=["undated", "v23", "theirs"],
                                     newest=end)  # undated: taken as late as the window allows
    assert dedup.examine(request, 3, page_of(records, verified=False)) is NO_IDS
    assert dedup.examine(msgspec.structs.replace(request, deduplication=None), 3, page_of(records)) is NO_IDS
    assert ids.fetched is not None
    dedup.remember(ids.fetched)
    later = msgspec.structs.replace(request, deduplication=Deduplication(scope=SCOPE, remember_from=end))
    assert dedup.expired(later) == [ids_key("w0", 0)]  # the other scope's entry is not this schedule's to forget
    dedup.forget([ids_key("w0", 0)])
    assert dedup.examine(request, 4, page_of(records)).duplicates == ["undated", "v23", "theirs"]
