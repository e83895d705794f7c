"""A fresh simulator per test, as a real HTTP server on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.stages.fetcher.simulated import Sim, running_sim, sim_config


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with running_sim(sim_config()) as running:
        yield running
