"""The simulator's OData paging faults over real HTTP: a silent cap, `@odata.nextLink` paging, one version
only, late-visible records, tied timestamps."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from simulator.config import DEMO_API_KEY, Faults, SimulatorConfig
from simulator.problems import RESOURCE_NOT_FOUND
from tests.simulator.test_apis import odata
from tests.simulator.test_server import assert_problem, simulator


def config(**faults: Any) -> SimulatorConfig:
    return SimulatorConfig(seed=3, conversations=20, page_size=10, faults=Faults(**faults))


async def everything(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await odata(client, "$top=100000")).json()["value"]
    return rows


async def test_a_capped_server_answers_fewer_rows_than_top_and_says_nothing() -> None:
    async with simulator(config()) as client:
        rows = await everything(client)
    async with simulator(config(odata_max_top=7)) as client:
        body = (await odata(client, "$top=50&$count=true&$orderby=timestamp asc")).json()
        assert body["value"] == rows[:7] and body["@odata.count"] == len(rows) and "@odata.nextLink" not in body


async def test_next_links_page_through_the_whole_answer() -> None:
    async with simulator(config(odata_page_rows=9)) as client:
        url = f"/v2.4/Conversations?$filter=timestamp ge '2025-01-02T00:00:00Z'&$orderby=timestamp asc&$top=40" \
              f"&apikey={DEMO_API_KEY}"
        pages: list[list[dict[str, Any]]] = []
        link = url
        while link:
            body = (await client.get(link)).json()
            pages.append(body["value"])
            link = body.get("@odata.nextLink", "")
            assert "%24" not in link  # a link the simulator itself accepts
    async with simulator(config()) as client:
        whole = (await client.get(url)).json()["value"]
    assert [len(p) for p in pages] == [9, 9, 9, 9, 4]  # $top=40, served 9 at a time
    assert [r for p in pages for r in p] == whole


async def test_a_v2_3_only_server_answers_404_on_v2_4() -> None:
    async with simulator(config(odata_only_version="v2.3")) as client:
        assert_problem(await odata(client, "$top=1"), 404, RESOURCE_NOT_FOUND)
        assert (await odata(client, "$top=1", version="v2.3")).status_code == 200


async def test_late_records_are_invisible_until_late_seconds_after_the_start() -> None:
    async with simulator(config(late_records=5, late_seconds=0.5)) as client:
        early = await everything(client)
        count = int((await client.get(f"/v2.4/Conversations/$count?apikey={DEMO_API_KEY}")).text)
        await asyncio.sleep(0.6)
        late = await everything(client)
        assert count == len(early) == len(late) - 5 and late[:-5] == early


async def test_tied_records_share_one_timestamp_in_time_order() -> None:
    async with simulator(config(tied_records=12)) as client:
        rows = await everything(client)
    assert max(Counter(r["timestamp"] for r in rows).values()) == 12
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)


def test_negative_fault_counts_are_refused() -> None:
    with pytest.raises(ValueError, match=r"faults\.odata_max_top must be >= 0"):
        config(odata_max_top=-1)
