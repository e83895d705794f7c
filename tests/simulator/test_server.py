"""The simulator over real HTTP: auth, job lifecycle, paging with checksums and resume, the error cases."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
from aiohttp import web

from simulator.dataset import PlantedPii, generate_dataset
from simulator.server import SimulatorConfig, build_app

CONFIG = SimulatorConfig(seed=3, conversations=40, page_size=20, job_ready_after_polls=2)
START = CONFIG.dataset_start
WHOLE_WINDOW = {"start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z"}
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "traceId"}


@asynccontextmanager
async def simulator(config: SimulatorConfig = CONFIG) -> AsyncIterator[httpx.AsyncClient]:
    runner = web.AppRunner(build_app(config))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        await runner.cleanup()


async def authorize(client: httpx.AsyncClient, config: SimulatorConfig = CONFIG) -> None:
    response = await client.post(
        "/auth/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "scope": "export:manage",
        },
    )
    assert response.status_code == 200
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


async def ready_job(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    """Create a job and poll it until COMPLETED."""
    response = await client.post("/api/v1/export/jobs", json=body or {"window": WHOLE_WINDOW})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    for _ in range(CONFIG.job_ready_after_polls + 1):
        status = (await client.get(f"/api/v1/export/jobs/{job_id}")).json()
    assert status["status"] == "COMPLETED"
    return job_id


async def all_pages(client: httpx.AsyncClient, job_id: str) -> list[httpx.Response]:
    pages = [await client.get(f"/api/v1/export/jobs/{job_id}/data")]
    while "X-Next-Page-Token" in pages[-1].headers:
        token = pages[-1].headers["X-Next-Page-Token"]
        pages.append(await client.get(f"/api/v1/export/jobs/{job_id}/data", params={"page_token": token}))
    return pages


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def assert_problem(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["instance"] == response.request.url.path
    return body


# --- auth ----------------------------------------------------------------------------------------


async def test_token_endpoint_grants_and_refuses() -> None:
    async with simulator() as client:
        credentials = {"client_id": "demo-client", "client_secret": "demo-secret"}
        grant = {"grant_type": "client_credentials", **credentials}
        granted = await client.post("/auth/oauth2/token", data=grant)
        assert granted.status_code == 200
        assert granted.json()["token_type"] == "Bearer"
        assert granted.json()["expires_in"] == CONFIG.token_ttl_seconds

        wrong_secret = await client.post(
            "/auth/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "nope"},
        )
        assert wrong_secret.status_code == 401
        assert wrong_secret.json()["error"] == "invalid_client"
        assert wrong_secret.json()["error_description"]

        wrong_grant = await client.post("/auth/oauth2/token", data={"grant_type": "password", **credentials})
        assert wrong_grant.status_code == 400
        assert wrong_grant.json() == {"error": "unsupported_grant_type"}


async def test_api_needs_a_valid_unexpired_bearer_token() -> None:
    async with simulator(msgspec.structs.replace(CONFIG, token_ttl_seconds=0)) as client:
        missing = await client.get("/api/v1/export/jobs/anything")
        assert "Bearer" in assert_problem(missing, 401, 401)["detail"]
        assert missing.headers["WWW-Authenticate"] == "Bearer"

        unknown = await client.get("/api/v1/export/jobs/anything", headers={"Authorization": "Bearer forged"})
        assert_problem(unknown, 401, 401)

        await authorize(client)  # a zero TTL: the token is expired on arrival
        expired = await client.post("/api/v1/export/jobs", json={"window": WHOLE_WINDOW})
        assert "expired" in assert_problem(expired, 401, 401)["detail"]


# --- job lifecycle -------------------------------------------------------------------------------


async def test_job_completes_after_the_configured_polls_and_refuses_data_before() -> None:
    async with simulator() as client:
        await authorize(client)
        job_id = (await client.post("/api/v1/export/jobs", json={"window": WHOLE_WINDOW})).json()["jobId"]
        early = await client.get(f"/api/v1/export/jobs/{job_id}/data")
        assert_problem(early, 409, 1004)

        statuses = [(await client.get(f"/api/v1/export/jobs/{job_id}")).json() for _ in range(3)]
        assert [s["status"] for s in statuses] == ["PROCESSING", "PROCESSING", "COMPLETED"]
        assert statuses[0]["progress"] < statuses[1]["progress"] < statuses[2]["progress"] == 100
        records = generate_dataset(CONFIG.seed, CONFIG.conversations, START).records
        assert statuses[2]["totalRecords"] == len(records)
        assert statuses[2]["totalPages"] == -(-len(records) // CONFIG.page_size)
        assert statuses[2]["errorMessage"] is None
        assert (await client.get(f"/api/v1/export/jobs/{job_id}/data")).status_code == 200


async def test_unknown_job_is_404_with_code_1002() -> None:
    async with simulator() as client:
        await authorize(client)
        assert_problem(await client.get("/api/v1/export/jobs/no-such-job"), 404, 1002)
        assert_problem(await client.get("/api/v1/export/jobs/no-such-job/data"), 404, 1002)


# --- paging --------------------------------------------------------------------------------------


async def test_paging_yields_exactly_the_selection_with_matching_checksums() -> None:
    async with simulator() as client:
        await authorize(client)
        window = {"start": "2025-01-05T00:00:00Z", "end": "2025-01-20T00:00:00Z"}
        job_id = await ready_job(client, {"window": window, "output_format": "jsonl", "pii_rules": []})
        pages = await all_pages(client, job_id)

        total = int(pages[0].headers["X-Total-Pages"])
        assert len(pages) == total > 1
        items = []
        for index, page in enumerate(pages):
            assert page.headers["X-Content-Sha256"] == sha256(page.content)
            assert page.headers["X-Page-Index"] == str(index)
            assert page.headers["X-Total-Pages"] == str(total)
            items += page.json()["items"]
        assert all(len(page.json()["items"]) == CONFIG.page_size for page in pages[:-1])
        assert "X-Resume-Token" not in pages[-1].headers

        records = generate_dataset(CONFIG.seed, CONFIG.conversations, START).records
        start, end = datetime(2025, 1, 5, tzinfo=UTC), datetime(2025, 1, 20, tzinfo=UTC)
        expected = [r for r in records if start <= datetime.fromisoformat(r["timestamp"]) < end]
        assert items == expected
        assert len({item["id"] for item in items}) == len(items)


async def test_same_request_gives_the_same_page_bytes() -> None:
    async with simulator() as client:
        await authorize(client)
        first = await all_pages(client, await ready_job(client))
        second = await all_pages(client, await ready_job(client))
        assert [page.content for page in first] == [page.content for page in second]


async def test_resume_token_returns_the_next_page_without_refetching() -> None:
    async with simulator() as client:
        await authorize(client)
        job_id = await ready_job(client)
        first = await client.get(f"/api/v1/export/jobs/{job_id}/data")
        resume = first.headers["X-Resume-Token"]
        assert resume == first.headers["X-Next-Page-Token"]

        second = await client.get(f"/api/v1/export/jobs/{job_id}/data", headers={"X-Resume-Token": resume})
        assert second.status_code == 200
        assert second.headers["X-Page-Index"] == "1"
        assert second.json()["items"][0] == (await all_pages(client, job_id))[1].json()["items"][0]

        stats = (await client.get("/_sim/stats")).json()
        assert stats["pages_served"][job_id]["1"] == 2  # once by resume, once by the full walk
        assert stats["pages_served"][job_id]["0"] == 2
        assert stats["requests"]["GET /api/v1/export/jobs/{jobId}/data"] >= 3


async def test_invalid_or_foreign_page_token_is_400() -> None:
    async with simulator() as client:
        await authorize(client)
        job_a, job_b = await ready_job(client), await ready_job(client)
        token_of_b = (await client.get(f"/api/v1/export/jobs/{job_b}/data")).headers["X-Next-Page-Token"]
        for token in ("garbage", token_of_b):
            response = await client.get(f"/api/v1/export/jobs/{job_a}/data", params={"page_token": token})
            assert_problem(response, 400, 1005)


async def test_corrupt_page_has_a_wrong_checksum_every_time() -> None:
    async with simulator(msgspec.structs.replace(CONFIG, corrupt_pages=[1])) as client:
        await authorize(client)
        job_id = await ready_job(client)
        for _ in range(2):
            pages = await all_pages(client, job_id)
            honest = [page.headers["X-Content-Sha256"] == sha256(page.content) for page in pages]
            assert honest == [index != 1 for index in range(len(pages))]


async def test_session_filter_and_empty_selection() -> None:
    async with simulator() as client:
        await authorize(client)
        records = generate_dataset(CONFIG.seed, CONFIG.conversations, START).records
        wanted = sorted({records[0]["sessionId"], records[-1]["sessionId"]})
        job_id = await ready_job(client, {"window": WHOLE_WINDOW, "session_ids": wanted})
        items = [item for page in await all_pages(client, job_id) for item in page.json()["items"]]
        assert items == [r for r in records if r["sessionId"] in wanted]

        empty = {"window": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}}
        pages = await all_pages(client, await ready_job(client, empty))
        assert len(pages) == 1
        assert pages[0].json() == {"items": []}
        assert pages[0].headers["X-Total-Pages"] == "1"


# --- request validation --------------------------------------------------------------------------


async def test_request_rules_are_enforced_with_code_1005() -> None:
    async with simulator() as client:
        await authorize(client)
        too_long = {"window": {"start": "2024-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z"}}
        backwards = {"window": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}}
        too_many = {"window": WHOLE_WINDOW, "session_ids": [f"s{i}" for i in range(501)]}
        naive = {"window": {"start": "2025-01-01T00:00:00", "end": "2025-01-02T00:00:00"}}
        for body, words in [(too_long, "365"), (backwards, "before"), (too_many, "501"), (naive, "window")]:
            response = await client.post("/api/v1/export/jobs", json=body)
            assert words in assert_problem(response, 400, 1005)["detail"]
        missing = await client.post("/api/v1/export/jobs", content=b"")
        assert_problem(missing, 400, 1000)


async def test_storage_quota_smaller_than_the_selection_is_413() -> None:
    async with simulator() as client:
        await authorize(client)
        over = await client.post("/api/v1/export/jobs", json={"window": WHOLE_WINDOW, "max_storage_mb": 0})
        assert "quota exceeded" in assert_problem(over, 413, 413)["detail"]
        within = await client.post("/api/v1/export/jobs", json={"window": WHOLE_WINDOW, "max_storage_mb": 50})
        assert within.status_code == 202


# --- rate limit ----------------------------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after() -> None:
    async with simulator(msgspec.structs.replace(CONFIG, rate_limit_requests=3)) as client:
        await authorize(client)  # request 1
        for _ in range(2):  # requests 2 and 3
            assert (await client.get("/api/v1/export/jobs/x")).status_code == 404
        limited = await client.get("/api/v1/export/jobs/x")
        assert_problem(limited, 429, 429)
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        stats = (await client.get("/_sim/stats")).json()  # test hooks are never limited
        assert stats["rate_limited"] == 1


# --- test hooks ----------------------------------------------------------------------------------


async def test_sim_routes_serve_records_and_ground_truth_without_auth() -> None:
    async with simulator() as client:
        dataset = generate_dataset(CONFIG.seed, CONFIG.conversations, START)
        records = await client.get("/_sim/records")
        assert [msgspec.json.decode(line) for line in records.content.splitlines()] == dataset.records
        truth = (await client.get("/_sim/ground-truth")).content.splitlines()
        assert [msgspec.json.decode(line, type=PlantedPii) for line in truth] == dataset.ground_truth


async def test_run_prints_its_address_and_stops_cleanly_on_sigterm() -> None:
    code = "from simulator.server import SimulatorConfig, run; run(SimulatorConfig(port=0, conversations=5))"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, cwd=os.getcwd()
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode().strip()
    assert line.startswith("simulator listening on http://127.0.0.1:")
    async with httpx.AsyncClient() as client:
        assert (await client.get(line.split()[-1] + "/_sim/stats")).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), timeout=10) == 0


def test_config_defaults_match_the_local_demo() -> None:
    config = SimulatorConfig()
    assert (config.host, config.port, config.seed, config.conversations) == ("127.0.0.1", 8780, 7, 300)
    assert (config.page_size, config.client_id, config.client_secret) == (50, "demo-client", "demo-secret")
    assert (config.token_ttl_seconds, config.job_ready_after_polls) == (3600, 2)
    assert (config.corrupt_pages, config.rate_limit_requests) == ([], 0)


def test_config_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="page_size"):
        SimulatorConfig(page_size=0)
    with pytest.raises(ValueError, match="job_ready_after_polls"):
        SimulatorConfig(job_ready_after_polls=-1)
