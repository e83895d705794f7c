"""Cognigy's rate limit as documented: requests per window per source IP, shared with every other client on
that IP, and 429s that need not say when to retry. The simulator's sliding-window limit (per IP) is used up
by another client first; the export then meets 429s without `Retry-After` until that client's requests
leave the window."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest

from shared.errors import SourceError
from tests.stages.fetcher.simulated import Sim, export_request, fetch_all, running_sim, sim_config

NO_RETRY_AFTER = {"retry_after": "none"}


async def another_client_uses_up_the_limit(sim: Sim, requests: int) -> None:
    """Requests from this host (the same source IP as the fetcher), each counted by the limit."""
    async with httpx.AsyncClient(base_url=sim.url) as http:
        for _ in range(requests):
            assert (await http.get("/v2.0/conversations/anyone")).status_code == 401  # counted before auth


def expected_pages(sim: Sim, page_size: int) -> list[bytes]:
    records = sim.state.dataset.records
    return [msgspec.json.encode({"items": records[i:i + page_size]}) for i in range(0, len(records), page_size)]


async def test_a_429_without_retry_after_for_longer_than_six_backoffs_is_waited_out() -> None:
    # 40 requests per 25 s per IP (the export needs about 20), all taken by another client: 25 s of 429s,
    # no Retry-After, for the export.
    config = sim_config(rate_limit_requests=40, rate_limit_window_seconds=25, faults=NO_RETRY_AFTER)
    async with running_sim(config) as sim:
        await another_client_uses_up_the_limit(sim, 40)
        started = time.monotonic()
        fetched = await fetch_all(sim.settings(COGNIGY_BACKOFF_CAP_SECONDS="4"), export_request())
        elapsed = time.monotonic() - started
        assert [p.body for p in fetched.pages] == expected_pages(sim, config.page_size)  # complete and exact
        assert all(p.verified for p in fetched.pages)
        assert fetched.stats.throttled == (await sim.stats())["rate_limited"] > 6  # more than six backoffs
        assert 20 < elapsed < 40  # waited for the window, and no longer than one backoff past it


async def test_when_the_budget_runs_out_the_error_names_it_and_the_limit() -> None:
    async with running_sim(sim_config(rate_limit_requests=5, rate_limit_window_seconds=60,
                                      faults=NO_RETRY_AFTER)) as sim:
        await another_client_uses_up_the_limit(sim, 5)
        settings = sim.settings(COGNIGY_RETRY_BUDGET_SECONDS="3", COGNIGY_BACKOFF_CAP_SECONDS="0.4")
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            await fetch_all(settings, export_request())
        assert 2.9 < time.monotonic() - started < 6  # the whole budget, not six attempts
        message = caught.value.message
        assert message.startswith("POST /auth/oauth2/token: 429 too many requests")
        assert "the retry budget of 3 s (CA_COGNIGY_RETRY_BUDGET_SECONDS) ran out after" in message
        throttled = (await sim.stats())["rate_limited"]
        assert throttled > settings.cognigy.max_attempts
        assert (f"Cognigy's rate limit was hit: {throttled} answers were 429; the tenant allows 1000 requests per "
                "300 s per source IP, counted across every client on that IP") in message
        assert "a budget shorter than that window may end before the limit frees up" in message


async def test_a_retry_after_longer_than_what_is_left_of_the_budget_is_given_up_at_once() -> None:
    faults = {"throttle_every": 1, "retry_after": "seconds", "retry_after_seconds": 30}
    async with running_sim(sim_config(faults=faults)) as sim:
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"429 .*; gave up: Cognigy asked to wait 30 s \(Retry-After\), longer "
                                              r"than what is left of the retry budget of 10 s"):
            await fetch_all(sim.settings(COGNIGY_RETRY_BUDGET_SECONDS="10"), export_request())
        assert time.monotonic() - started < 2 and (await sim.stats())["rate_limited"] == 1


async def test_other_errors_still_end_after_the_attempts() -> None:
    async with running_sim(sim_config(faults={"error_every": 1})) as sim:
        with pytest.raises(SourceError, match=r"503 simulated server error.*; gave up after 3 attempts "
                                              r"\(CA_COGNIGY_MAX_ATTEMPTS\)$"):
            await fetch_all(sim.settings(COGNIGY_MAX_ATTEMPTS="3"), export_request())
        assert (await sim.stats())["responses"]["503"] == 3
