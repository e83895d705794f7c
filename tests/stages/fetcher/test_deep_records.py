"""A record nested deeper than MAX_DEPTH (a chat user controls `inputData`): the fetcher passes it on as the
source sent it and keeps running, the verifier refuses that record alone, with the reason, and the rest of
its page and every later export go on. Before, a RecursionError killed the fetcher on every restart (the
exports topic has one partition: every later export waited)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.export_requests import publish_request
from shared.kafka.tables import read_topic, topic_values
from shared.kafka.topics import DLQ, PAGES_VERIFIED
from shared.messages import DeadLetter, VerifiedMessage, VerifiedPage, decode
from shared.nesting import MAX_DEPTH
from shared.settings import Settings, load_settings
from simulator.config import DEMO_API_KEY
from tests.http_servers import serving
from tests.stages.fetcher.simulated import export_request, fetch_all, running_sim, sim_config
from tests.stages.fetcher.test_stage import status_of

DEEP = 5_000  # far past msgspec's and Python's recursion limits
DEEPER_THAN_ALLOWED = MAX_DEPTH + 10  # within them: refused by the limit alone


def nested_list(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def deep_json(levels: int) -> msgspec.Raw:
    return msgspec.Raw(b"[" * levels + b"]" * levels)


async def verified_pages(settings: Settings, export_id: str) -> list[VerifiedPage]:
    pages = [m for r in [r async for r in read_topic(settings, settings.kafka.topic(PAGES_VERIFIED))]
             if isinstance(m := decode(r.value, VerifiedMessage), VerifiedPage) and m.export_id == export_id]
    return sorted(pages, key=lambda p: p.page_index)


@pytest.mark.timeout(180)
async def test_the_fetcher_survives_a_deep_record_and_the_verifier_refuses_only_it(topics: Settings,
                                                                                   tmp_path: Path) -> None:
    async with running_sim(sim_config(conversations=12)) as sim:
        records = sim.state.dataset.records
        records[3]["inputData"] = deep_json(DEEP)  # page 0
        records[25]["inputData"] = nested_list(DEEPER_THAN_ALLOWED)  # page 1
        deep_ids = {records[3]["id"], records[25]["id"]}
        env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers,
                         "CA_TOPIC_PREFIX": topics.kafka.topic_prefix, "CA_INSTANCE_ID": "deep",
                         "CA_COGNIGY_BASE_URL": sim.url, "CA_COGNIGY_AUTH": "api_key",
                         "CA_COGNIGY_API_KEY": DEMO_API_KEY, "CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.05"})
        first, later = export_request(export_id="exp-deep"), export_request(export_id="exp-after")
        for request in (first, later):
            await publish_request(topics, request)
        procs = ProcessGroup(env, tmp_path / "logs")
        procs.start_stage("fetcher")
        procs.start_stage("verifier")
        try:
            deadline = time.monotonic() + 90
            while (status := await status_of(topics, later.export_id)) is None or status.state != "fetched":
                assert procs.alive("fetcher"), (tmp_path / "logs" / "fetcher.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the export behind the deep record was never fetched"
                await asyncio.sleep(0.2)
            fetched = await status_of(topics, first.export_id)
            assert fetched is not None and fetched.state == "fetched" and fetched.total_pages is not None
            while len(pages := await verified_pages(topics, first.export_id)) < fetched.total_pages:
                assert procs.alive("verifier") and time.monotonic() < deadline, "not every page was verified"
                await asyncio.sleep(0.2)
        finally:
            procs.stop_all()
        letters = [letter for v in await topic_values(topics, DLQ)
                   if (letter := decode(v, DeadLetter)).export_id == first.export_id]
    assert sorted(letter.reason for letter in letters) == [
        f"record 3 of page 0: nests deeper than {MAX_DEPTH} levels of objects and arrays",
        f"record 5 of page 1: nests deeper than {MAX_DEPTH} levels of objects and arrays"]
    assert all(letter.error_type == "MalformedRecord" for letter in letters)
    assert not any(p.dead for p in pages) and [p.rejected_records for p in pages[:2]] == [1, 1]
    passed = [r["id"] for p in pages for r in p.records]
    assert passed == [r["id"] for r in records if r["id"] not in deep_ids]  # the rest of each page, in order


@pytest.fixture
async def canned() -> AsyncIterator[str]:
    """A REST conversation and an OData collection holding a record nested DEEP levels, as a real server."""
    deep = b'{"_id":"m2","id":"m2","sessionId":"s1","timestamp":"2025-01-01T00:00:02.000Z","inputData":' + (
        b"[" * DEEP + b"]" * DEEP) + b"}"
    plain = b'{"_id":"m1","id":"m1","sessionId":"s1","timestamp":"2025-01-01T00:00:01.000Z","inputText":"hi"}'
    rest = b'{"items":[' + plain + b"," + deep + b'],"total":2}'
    odata = b'{"@odata.context":"x","value":[' + plain + b"," + deep + b"]}"
    def serve(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")
        return handler

    app = web.Application()
    app.router.add_get("/new/v2.0/conversations/s1", serve(rest))
    app.router.add_get("/v2.4/Conversations", serve(odata))
    app.router.add_get("/v2.4/Conversations/$count", serve(b"1"))  # from m2's timestamp on: m2, so that was all
    async with serving(app) as url:
        yield url


@pytest.mark.parametrize("source", ["rest", "odata"])
async def test_sources_that_build_their_pages_pass_a_deep_record_on_as_sent(canned: str, source: str) -> None:
    settings = load_settings({"CA_COGNIGY_BASE_URL": canned, "CA_COGNIGY_AUTH": "api_key",
                              "CA_COGNIGY_API_KEY": DEMO_API_KEY})
    request = export_request(source, session_ids=["s1"] if source == "rest" else None)  # type: ignore[arg-type]
    fetched = await fetch_all(settings, request)
    [page] = fetched.pages
    assert page.records == 2 and b'"inputData":' + b"[" * DEEP + b"]" * DEEP + b"}" in page.body
    assert page.body.startswith(b'{"items":[{"id":"m1"')
