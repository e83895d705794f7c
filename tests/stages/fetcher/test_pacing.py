"""Retries and pacing: 429 with and without Retry-After, 5xx, slow answers, the retry budget, fail-fast
errors, and a token bucket that keeps a fetcher under the tenant's limit."""

from __future__ import annotations

import time

import pytest

from cognigy_archiver.localkafka import free_port
from shared.errors import SourceError
from shared.settings import Settings, load_settings
from simulator.config import DEMO_CREDENTIALS
from stages.fetcher.rate_limit import TokenBucket
from tests.stages.fetcher.simulated import PAGE_SIZE, Sim, export_request, fetch_all, running_sim, sim_config


def pages_of(sim: Sim) -> int:
    return -(-len(sim.state.dataset.records) // PAGE_SIZE)


@pytest.mark.parametrize("style", ["seconds", "date", "none"])
async def test_429_bursts_are_waited_out(style: str) -> None:
    faults = {"throttle_every": 10, "throttle_burst": 2, "retry_after": style, "retry_after_seconds": 1}
    async with running_sim(sim_config(faults=faults)) as sim:
        started = time.monotonic()
        fetched = await fetch_all(sim.settings(), export_request())
        elapsed = time.monotonic() - started
        assert len(fetched.pages) == pages_of(sim) and all(p.verified for p in fetched.pages)
        assert fetched.stats.throttled == (await sim.stats())["rate_limited"] >= 2
        if style != "none":  # the server's wait is honoured: at least a second per burst
            assert elapsed >= fetched.stats.throttled / 2 * 0.9


async def test_5xx_and_slow_answers_are_retried() -> None:
    faults = {"error_every": 4, "slow_every": 7, "slow_seconds": 1.5}
    async with running_sim(sim_config(faults=faults)) as sim:
        fetched = await fetch_all(sim.settings(COGNIGY_TIMEOUT_SECONDS="0.5"), export_request())
        assert len(fetched.pages) == pages_of(sim)
        stats = await sim.stats()
        assert stats["responses"]["503"] >= 4 and fetched.stats.retries >= stats["responses"]["503"] + 2


async def test_the_retry_budget_ends_with_a_clear_error() -> None:
    async with running_sim(sim_config(faults={"error_every": 1})) as sim:
        with pytest.raises(SourceError, match=r"503 simulated server error.*gave up after 3 attempts"):
            await fetch_all(sim.settings(COGNIGY_MAX_ATTEMPTS="3"), export_request())
        assert (await sim.stats())["responses"]["503"] == 3


async def test_an_unreachable_tenant_is_named() -> None:
    settings = sim_settings_for(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SourceError, match=r"POST /auth/oauth2/token: cannot reach Cognigy \(ConnectError"):
        await fetch_all(settings, export_request())


def sim_settings_for(url: str) -> Settings:
    return load_settings({"CA_COGNIGY_BASE_URL": url, "CA_COGNIGY_MAX_ATTEMPTS": "2",
                          "CA_COGNIGY_BACKOFF_CAP_SECONDS": "0.1", **DEMO_CREDENTIALS})


async def test_the_token_bucket_keeps_a_fetcher_under_the_servers_limit() -> None:
    # 40 requests per 4 s at the server; the client is told the same limit and must never see a 429.
    async with running_sim(sim_config(rate_limit_requests=40, rate_limit_window_seconds=4)) as sim:
        settings = sim.settings(COGNIGY_RATE_LIMIT_REQUESTS="40", COGNIGY_RATE_LIMIT_PERIOD_SECONDS="4",
                                COGNIGY_MAX_CONCURRENCY="4")
        sessions = sorted(sim.state.sessions)
        started = time.monotonic()
        fetched = await fetch_all(settings, export_request("rest", session_ids=sessions))
        elapsed = time.monotonic() - started
        assert len(fetched.pages) == len(sessions) == 30
        assert (await sim.stats())["rate_limited"] == 0
        # 31 requests: a burst of 2, then 38 per 4 s (9.5/s): about 3 s, not the 0.1 s it takes unpaced.
        assert 2.5 < elapsed < 6


async def test_a_token_bucket_pause_holds_every_caller() -> None:
    bucket = TokenBucket(capacity=5, rate=100)
    bucket.pause(0.3)
    started = time.monotonic()
    await bucket.acquire()
    assert time.monotonic() - started >= 0.29


def test_bucket_for_a_limit_fits_the_window() -> None:
    bucket = TokenBucket.for_limit(1000, 300)
    assert bucket.capacity == 50
    assert bucket.capacity + bucket.rate * 300 == 1000  # never more than the limit in any window
    assert bucket.rate * 300 / 1000 == 0.95
    with pytest.raises(ValueError, match="rate limit"):
        TokenBucket.for_limit(0, 300)
