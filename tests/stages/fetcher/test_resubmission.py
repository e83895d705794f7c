"""Resubmitting an export resumes it only when the request is the one it was started with (its fingerprint is
in the checkpoint): with other PII rules it fails with a message to use a new export id, and no page is
fetched under the new rules. Before, the old job resumed with the new rules, while the manifest recorded
the first page's: pages with clear e-mails under a manifest saying "tokenize"."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from shared.export_requests import publish_request
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ
from shared.messages import DeadLetter, ExportOptions, PiiRule, decode
from shared.settings import Settings
from simulator.config import Faults
from stages.fetcher.stage import Fetcher
from tests.stages.fetcher.simulated import export_request, running_sim, sim_config
from tests.stages.fetcher.test_stage import (
    published_pages,
    stage_settings,
    status_of,
    wait_for_pages,
    wait_for_status,
)

pytestmark = pytest.mark.timeout(120)
NEW_ID = "submit the changed request under a new export id"


async def wait_for_detail(settings: Settings, export_id: str, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (status := await status_of(settings, export_id)) is None or text not in status.detail:
        assert time.monotonic() < deadline, f"no status saying {text!r}; last: {status}"
        await asyncio.sleep(0.1)


async def test_a_resubmission_with_other_rules_is_refused_and_the_same_request_resumes(topics: Settings) -> None:
    async with running_sim(sim_config(conversations=40, page_delay_seconds=0.1)) as sim:
        settings = stage_settings(topics, sim)
        first = export_request(export_id="exp-again")
        changed = msgspec.structs.replace(first, options=ExportOptions(
            pii_rules=[PiiRule(entity_type="ALL", action="mask")]))
        stop = asyncio.Event()
        fetcher = asyncio.create_task(Fetcher(settings).run(stop))
        try:
            await publish_request(settings, first)
            await wait_for_pages(settings, first.export_id, 2, 30)
            sim.state.config = msgspec.structs.replace(sim.state.config, faults=Faults(error_every=1, error_status=403))
            await wait_for_status(settings, first.export_id, {"failed"}, 30)
            sim.state.config = msgspec.structs.replace(sim.state.config, faults=Faults())
            before = await published_pages(settings, first.export_id)

            await publish_request(settings, changed)
            await wait_for_detail(settings, first.export_id, NEW_ID)
            assert await published_pages(settings, first.export_id) == before  # nothing under the new rules

            await publish_request(settings, first)  # the same request: resumed where it stopped
            fetched = await wait_for_status(settings, first.export_id, {"fetched"}, 60)

            await publish_request(settings, changed)  # after it is done: refused too, its status kept
            deadline = time.monotonic() + 30
            while not (letters := [d for v in await topic_values(settings, DLQ)
                                   if (d := decode(v, DeadLetter)).export_id == first.export_id]):
                assert time.monotonic() < deadline, "the changed request was not dead-lettered"
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await fetcher
    pages = await published_pages(settings, first.export_id)
    assert [p.page_index for p in pages] == list(range(fetched.total_pages or 0)) and len(pages) > len(before)
    assert {msgspec.json.encode(p.options) for p in pages} == {msgspec.json.encode(first.options)}
    assert [letter.reason for letter in letters] == [
        f"export {first.export_id} was started with another source, selection or options; {NEW_ID}"]
    status = await status_of(settings, first.export_id)
    assert status is not None and status.state == "fetched"
