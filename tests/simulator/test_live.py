"""A live tenant over real HTTP: records arrive as the wall clock passes their timestamps, every Nth one late,
through OData, `$count`, REST and export jobs alike; `/_sim/arrivals` tells when each one arrives.

Each query is bracketed by the client's clock before and after it: whatever arrived before it must be
served, nothing that arrives after it may be. That holds however slowly a loaded machine answers."""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cognigy_archiver.localkafka import free_port
from cognigy_archiver.processes import ProcessGroup, child_env
from simulator.config import DEMO_API_KEY, Faults, SimulatorConfig
from tests.simulator.test_apis import odata
from tests.simulator.test_server import all_pages, authorize, simulator

LATE_EVERY = 5
LATE_BY = 0.8


@dataclass(frozen=True)
class Arrival:
    id: str
    timestamp: float  # epoch seconds
    visible_at: float


def live_config(starts_in: float, seconds: float, conversations: int = 12, **faults: Any) -> SimulatorConfig:
    """A dataset of `seconds` that begins `starts_in` seconds from now (negative: it began already)."""
    start = datetime.now(UTC) + timedelta(seconds=starts_in)
    return SimulatorConfig(seed=3, conversations=conversations, page_size=25, dataset_start=start,
                           dataset_seconds=seconds, faults=Faults(live=True, **faults))


async def arrivals(client: httpx.AsyncClient) -> list[Arrival]:
    lines = (await client.get("/_sim/arrivals")).text.splitlines()
    return [Arrival(row["id"], epoch(row["timestamp"]), epoch(row["visible_at"]))
            for row in map(json.loads, lines)]


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def assert_bracketed(served: list[str], expected: list[Arrival], before: float, after: float) -> None:
    """`served` (ids, in time order) holds every record visible by `before` and none visible only after `after`."""
    assert served == [a.id for a in expected if a.id in set(served)]  # time order, no duplicates
    assert {a.id for a in expected if a.visible_at <= before} <= set(served)
    assert set(served) <= {a.id for a in expected if a.visible_at <= after}


async def served_ids(client: httpx.AsyncClient) -> list[str]:
    return [row["id"] for row in (await odata(client, "$top=100000&$orderby=timestamp asc")).json()["value"]]


async def sim_records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (await client.get("/_sim/records")).text.splitlines()]


async def test_records_arrive_at_their_timestamps_and_every_nth_late_by_the_lag() -> None:
    config = live_config(-0.3, 1.5, late_every=LATE_EVERY, late_by_seconds=LATE_BY)
    async with simulator(config) as client:
        expected = await arrivals(client)
        records = await sim_records(client)
        assert [a.id for a in expected] == [r["id"] for r in records]
        assert all(math.isclose(a.visible_at, a.timestamp + (LATE_BY if (i + 1) % LATE_EVERY == 0 else 0),
                                abs_tol=1e-5) for i, a in enumerate(expected))  # microseconds, as /_sim/ says
        session = max({r["sessionId"] for r in records}, key=lambda s: sum(r["sessionId"] == s for r in records))
        in_session = [a for a, r in zip(expected, records, strict=True) if r["sessionId"] == session]
        sizes: list[int] = []
        waiting: set[str] = set()  # late records found missing once their timestamp had passed
        deadline = time.time() + 20
        while not sizes or (sizes[-1] < len(expected) and time.time() < deadline):
            before = time.time()
            served = await served_ids(client)
            count = int((await client.get(f"/v2.4/Conversations/$count?apikey={DEMO_API_KEY}")).text)
            rest = await client.get(f"/new/v2.0/conversations/{session}", headers={"x-api-key": DEMO_API_KEY})
            after = time.time()
            assert_bracketed(served, expected, before, after)
            assert sum(a.visible_at <= before for a in expected) <= count
            assert count <= sum(a.visible_at <= after for a in expected)
            in_rest = [m["_id"] for m in rest.json()["items"]] if rest.status_code == 200 else []
            assert rest.status_code == 200 or (rest.status_code == 404 and not in_rest)
            assert_bracketed(in_rest, in_session, before, after)
            waiting |= {a.id for a in expected if a.visible_at > a.timestamp and a.timestamp <= before
                        and a.id not in served}
            sizes.append(len(served))
            await asyncio.sleep(0.02)
        assert served == [r["id"] for r in records]  # in the end, exactly what /_sim/records holds
        assert len(set(sizes)) >= 3 and waiting  # they did arrive over time, and late ones late


async def test_an_export_job_holds_what_was_visible_when_it_was_created() -> None:
    config = live_config(-0.2, 1.2, late_every=LATE_EVERY, late_by_seconds=LATE_BY)
    start, end = config.dataset_start, config.dataset_start + timedelta(seconds=config.dataset_seconds)
    window = {"window": {"start": start.isoformat(), "end": end.isoformat()}}
    async with simulator(config) as client:
        expected = await arrivals(client)
        await authorize(client)
        created: list[tuple[float, str, float]] = []  # (before, job id, after)
        last = max(a.visible_at for a in expected)
        while not created or created[-1][0] <= last:
            before = time.time()
            response = await client.post("/api/v1/export/jobs", json=window)
            created.append((before, response.json()["jobId"], time.time()))
            await asyncio.sleep(0.15)
        jobs = []
        for before, job_id, after in created:  # read once everything arrived: a job's pages do not grow
            statuses = [(await client.get(f"/api/v1/export/jobs/{job_id}")).json()["status"]
                        for _ in range(config.job_ready_after_polls + 1)]
            assert statuses[-1] == "COMPLETED"
            pages = await all_pages(client, job_id)
            ids = [r["id"] for page in pages for r in page.json()["items"]]
            assert_bracketed(ids, expected, before, after)
            jobs.append(ids)
    late = [a for a in expected if a.visible_at > a.timestamp]
    assert 0 < len(jobs[0]) < len(expected) == len(jobs[-1])
    assert any(a.timestamp <= asked and a.id not in held for (asked, _, _), held in zip(created, jobs, strict=True)
               for a in late)  # a job created after a late record's timestamp, before it was visible


async def test_late_records_of_a_live_tenant_wait_for_late_seconds_after_the_start() -> None:
    config = live_config(-3.0, 2.0, late_records=4, late_seconds=1.0)  # all in the past: visible but the newest 4
    async with simulator(config) as client:
        expected = await arrivals(client)
        assert all(a.visible_at > a.timestamp + 1 for a in expected[-4:])
        before = time.time()
        first = await served_ids(client)
        assert_bracketed(first, expected, before, time.time())
        assert first == [a.id for a in expected[:-4]]
        await asyncio.sleep(max(0.0, expected[-1].visible_at - time.time()) + 0.05)
        assert await served_ids(client) == [a.id for a in expected]


async def test_the_cli_serves_a_live_dataset_that_spans_seconds(tmp_path: Path) -> None:
    start = datetime.now(UTC)
    procs = ProcessGroup(child_env({}), tmp_path / "logs")
    faults = json.dumps({"live": True, "late_every": 3, "late_by_seconds": 0.5})
    url = await asyncio.to_thread(procs.start_simulator, free_port(), "--conversations", "4", "--dataset-start",
                                  start.isoformat(), "--dataset-seconds", "1.5", "--faults", faults)
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            expected = await arrivals(client)
            assert start.timestamp() <= expected[0].timestamp and expected[-1].timestamp < start.timestamp() + 1.5
            assert math.isclose(expected[2].visible_at, expected[2].timestamp + 0.5, abs_tol=1e-5)
            before = time.time()
            served = await served_ids(client)
            assert_bracketed(served, expected, before, time.time())
    finally:
        assert (await asyncio.to_thread(procs.stop_all))["simulator"] == 0
