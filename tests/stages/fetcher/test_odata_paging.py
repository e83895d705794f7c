"""OData paging that cannot end early, against the simulator's fault switches over real HTTP through the
fetcher's export path: a silent `$top` cap, `@odata.nextLink` paging, a tie larger than the capped answer, a
window past the newest record, records Cognigy makes visible late (caught by the settle lag), and the
error hints. Each export is compared, record id for record id, with the simulator's dataset for the window."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from shared.errors import SourceError
from shared.settings import load_settings
from simulator.config import dataset_window
from stages.fetcher.api_client import ApiClient
from stages.fetcher.export_run import run_export
from stages.fetcher.sources import open_source
from tests.http_servers import serving
from tests.stages.fetcher.simulated import Fetched, ListSink, Sim, export_request, fetch_all, running_sim, sim_config

CONVERSATIONS = "GET /{version}/Conversations"
COUNTS = "GET /{version}/Conversations/$count"


def window_ids(sim: Sim, window: tuple[datetime, datetime] | None = None) -> list[str]:
    """The ids of every record the simulator holds for the window, in time order (late ones included)."""
    start, end = window or dataset_window()
    return [r["id"] for r, t in zip(sim.state.dataset.records, sim.state.timestamps, strict=True) if start <= t < end]


def fetched_ids(fetched: Fetched) -> list[str]:
    assert fetched.checkpoints[-1].done and fetched.checkpoints[-1].records == len(fetched.records)
    return [r["id"] for r in fetched.records]


async def test_a_silent_top_cap_is_detected_and_paged_through_to_the_end(caplog: pytest.LogCaptureFixture) -> None:
    async with running_sim(sim_config(faults={"odata_max_top": 7})) as sim:
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_TOP="50"), export_request("odata"))
        assert fetched_ids(fetched) == window_ids(sim)
        n = len(sim.state.dataset.records)
        # $top lowered to the cap after the first short answer (which $count showed was not the end): each
        # query then brings 6 new records (the seventh repeats the last one seen); $count confirms the end.
        requests = (await sim.stats())["requests"]
        assert requests[CONVERSATIONS] <= n // 6 + 2 and requests[COUNTS] == 2
        assert "asking for 7 from now on" in caplog.text


async def test_next_link_paging_is_followed_to_the_end() -> None:
    async with running_sim(sim_config(faults={"odata_page_rows": 9})) as sim:
        fetched = await fetch_all(sim.api_key_settings(), export_request("odata"))  # $top=1000: one query
        assert fetched_ids(fetched) == window_ids(sim)
        n = len(sim.state.dataset.records)
        # The server's pages, then $count to confirm the short answer (n < $top) was all.
        assert (await sim.stats())["requests"] == {CONVERSATIONS: -(-n // 9), COUNTS: 1}


async def test_a_tie_larger_than_the_capped_answer_is_read_whole() -> None:
    async with running_sim(sim_config(faults={"odata_max_top": 6, "tied_records": 25})) as sim:
        assert max(Counter(r["timestamp"] for r in sim.state.dataset.records).values()) == 25
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_TOP="50"), export_request("odata"))
        assert fetched_ids(fetched) == window_ids(sim)
        # $count after: the first (capped) answer, the first answer with nothing new (the tie), the tie once
        # passed (its size against the ids read with $skip), the last answer.
        assert (await sim.stats())["requests"][COUNTS] == 4


async def test_a_tie_larger_than_top_is_read_whole_without_a_cap() -> None:
    async with running_sim(sim_config(faults={"tied_records": 40})) as sim:
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_TOP="10"), export_request("odata"))
        assert fetched_ids(fetched) == window_ids(sim)


async def test_a_window_after_the_newest_record_completes_empty() -> None:
    async with running_sim(sim_config(faults={"odata_past_end_500": True})) as sim:
        window = (datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC))
        fetched = await fetch_all(sim.api_key_settings(), export_request("odata", window=window))
        assert fetched_ids(fetched) == window_ids(sim, window) == []
        assert [p.records for p in fetched.pages] == [0]
        stats = await sim.stats()
        assert stats["responses"]["500"] == 1 and stats["requests"][COUNTS] == 1  # the 500, confirmed by $count


async def test_late_records_are_caught_by_the_settle_lag_and_a_window_ending_in_the_future_waits() -> None:
    now = datetime.now(UTC)
    # The newest 60 records become visible 1.5 s after the simulator starts, as Cognigy's analytics lag;
    # the window ends half a second from now, so with a 2 s settle lag it is read 2.5 s from now.
    config = sim_config(dataset_start=now - timedelta(days=1), dataset_days=1,
                        faults={"late_records": 60, "late_seconds": 1.5})
    window = (now - timedelta(days=1), now + timedelta(seconds=0.5))
    async with running_sim(config) as sim:
        started = time.monotonic()
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_SETTLE_SECONDS="2"), export_request("odata",
                                                                                                   window=window))
        assert time.monotonic() - started >= 2.0
        assert fetched_ids(fetched) == window_ids(sim, window) and len(fetched.records) > 60


async def test_a_stop_while_a_window_settles_leaves_the_export_unstarted() -> None:
    now = datetime.now(UTC)
    async with running_sim(sim_config()) as sim:
        settings = sim.api_key_settings()  # the default settle lag: 10 minutes
        api, sink, stop = ApiClient(settings), ListSink(), asyncio.Event()
        request = export_request("odata", window=(now - timedelta(hours=1), now))
        asyncio.get_running_loop().call_later(0.3, stop.set)
        try:
            started = time.monotonic()
            checkpoint = await run_export(open_source("odata", api, settings), request, None, sink, stop, 0.01,
                                          settle_seconds=settings.cognigy.settle_seconds)
        finally:
            await api.close()
        assert time.monotonic() - started < 3
        # Nothing recorded and nothing asked: the stage leaves the request uncommitted, so a restart waits again.
        assert not checkpoint.done and checkpoint.next_page_index == 0
        assert sink.checkpoints == [] and sink.pages == [] and (await sim.stats())["requests"] == {}


async def test_a_v2_3_only_tenant_answering_404_names_the_version_setting() -> None:
    async with running_sim(sim_config(faults={"odata_only_version": "v2.3"})) as sim:
        with pytest.raises(SourceError, match=r"failed \(404\).*set CA_COGNIGY_ODATA_VERSION=v2.3"):
            await fetch_all(sim.api_key_settings(), export_request("odata"))
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_VERSION="v2.3"), export_request("odata"))
        assert fetched_ids(fetched) == window_ids(sim)


async def test_a_400_is_called_a_refused_quoted_literal_only_when_bare_ones_work(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stages.fetcher.sources.odata")
    async with running_sim(sim_config(faults={"error_every": 1, "error_status": 400})) as sim:
        with pytest.raises(SourceError, match=r"Conversations failed \(400\): simulated server error"):
            await fetch_all(sim.api_key_settings(), export_request("odata"))
        assert "quoted" not in caplog.text
    async with running_sim(sim_config(faults={"odata_datetime_literals": "bare"})) as sim:
        fetched = await fetch_all(sim.api_key_settings(), export_request("odata"))
        assert fetched_ids(fetched) == window_ids(sim)
        assert "OData refused a quoted datetime literal; using bare ones" in caplog.text


def canned_odata(answer: Mapping[str, object], count: str) -> web.Application:
    """An OData server that gives every query the same answer and every count the same number."""
    async def conversations(request: web.Request) -> web.Response:
        return web.json_response(answer)

    async def counted(request: web.Request) -> web.Response:
        return web.Response(text=count)

    app = web.Application()
    app.router.add_get("/v2.4/Conversations", conversations)
    app.router.add_get("/v2.4/Conversations/$count", counted)
    return app


async def canned_fetch(app: web.Application) -> Fetched:
    async with serving(app) as url:
        settings = load_settings({"CA_COGNIGY_BASE_URL": url, "CA_COGNIGY_AUTH": "api_key", "CA_COGNIGY_API_KEY": "k"})
        return await fetch_all(settings, export_request("odata"))


async def test_a_server_that_ignores_the_keyset_filter_fails_the_export_instead_of_looping() -> None:
    rows = [{"id": f"m{i}", "sessionId": "s1", "timestamp": f"2025-01-01T00:00:0{i}.000Z"} for i in (1, 2)]
    with pytest.raises(SourceError, match=r"answered a record of 2025-01-01T00:00:01\.000Z for a query from "
                                          r"2025-01-01T00:00:02\.000Z: it does not filter or order as asked"):
        await canned_fetch(canned_odata({"value": rows}, "99"))


async def test_a_next_link_to_another_server_is_not_followed_with_the_credentials() -> None:
    row = {"id": "m1", "sessionId": "s1", "timestamp": "2025-01-01T00:00:01.000Z"}
    answer = {"value": [row], "@odata.nextLink": "https://elsewhere.invalid/v2.4/Conversations?$skip=1"}
    with pytest.raises(SourceError, match=r"nextLink leads to another server \(https://elsewhere\.invalid/v2\.4/Conversations\?\$skip=\*\*\*\)"):
        await canned_fetch(canned_odata(answer, "2"))
