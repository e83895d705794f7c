"""Waiting on a long Cognigy export job keeps the fetcher healthy: every answered status poll counts as
progress, so the stall probe (shared.telemetry.health.STALL_SECONDS) never restarts a fetcher for waiting."""

from __future__ import annotations

import asyncio

from shared.messages import FetchCheckpoint
from shared.telemetry.health import HEALTH
from stages.fetcher.api_client import ApiClient
from stages.fetcher.export_run import run_export
from stages.fetcher.sources import open_source
from tests.stages.fetcher.simulated import ListSink, export_request, running_sim, sim_config


class HealthAtEachPoll(ListSink):
    """Notes when the fetcher last told the health server it made progress, at each job status answer."""

    def __init__(self) -> None:
        super().__init__()
        self.last_polls: list[float] = []

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None:
        self.last_polls.append(HEALTH.last_poll)
        await super().job_progress(checkpoint, percent)


async def test_each_answered_job_status_poll_counts_as_progress() -> None:
    async with running_sim(sim_config(conversations=5, job_ready_after_polls=4)) as sim:
        settings = sim.settings(COGNIGY_POLL_INTERVAL_SECONDS="0.05")
        api, sink = ApiClient(settings), HealthAtEachPoll()
        HEALTH.last_poll = 0.0
        try:
            await run_export(open_source("export_job", api, settings), export_request(), None, sink,
                             asyncio.Event(), settings.cognigy.poll_interval_seconds,
                             settle_seconds=settings.cognigy.settle_seconds)
        finally:
            await api.close()
    assert len(sink.last_polls) >= 2, sink.percents  # the job answered PROCESSING before it was ready
    assert 0.0 < sink.last_polls[0] < sink.last_polls[-1]
