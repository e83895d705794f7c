"""The simulator as a real HTTP server on a free port, fetcher settings pointing at it, export requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import msgspec

from shared.messages import ExportOptions, ExportRequest, FetchCheckpoint, PiiRule, SessionRange, SourceName, TimeWindow
from shared.settings import Settings, load_settings
from simulator.config import DEMO_API_KEY, DEMO_CREDENTIALS, Faults, SimulatorConfig, dataset_window
from simulator.server import build_app
from simulator.state import STATE, State
from stages.fetcher.api_client import ApiClient, FetchStats
from stages.fetcher.export_run import run_export
from stages.fetcher.pages import FetchedPage
from stages.fetcher.sources import open_source
from tests.http_servers import serving

CONVERSATIONS = 30
PAGE_SIZE = 20


@dataclass
class Sim:
    url: str
    state: State

    def settings(self, **env: str) -> Settings:
        """Fetcher settings for this simulator; `env` as CA_* names without the prefix, e.g. COGNIGY_AUTH."""
        values = {"CA_COGNIGY_BASE_URL": self.url, "CA_COGNIGY_PAGE_RECORDS": str(PAGE_SIZE),
                  "CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.01", "CA_COGNIGY_BACKOFF_CAP_SECONDS": "0.2",
                  "CA_COGNIGY_TIMEOUT_SECONDS": "5", **DEMO_CREDENTIALS}
        values.update({f"CA_{k}": v for k, v in env.items()})
        return load_settings(values)

    def api_key_settings(self, **env: str) -> Settings:
        return self.settings(COGNIGY_AUTH="api_key", COGNIGY_API_KEY=DEMO_API_KEY, **env)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url) as http:
            body: dict[str, Any] = (await http.get("/_sim/stats")).json()
        return body

    def issued_tokens(self) -> list[str]:
        return list(self.state.access_tokens)


def sim_config(**fields: Any) -> SimulatorConfig:
    defaults: dict[str, Any] = {"port": 0, "seed": 5, "conversations": CONVERSATIONS, "page_size": PAGE_SIZE,
                                "job_ready_after_polls": 1}
    return SimulatorConfig(**{**defaults, **fields, "faults": Faults(**fields.get("faults", {}))})


@asynccontextmanager
async def running_sim(config: SimulatorConfig) -> AsyncIterator[Sim]:
    app = build_app(config)
    async with serving(app) as url:
        yield Sim(url, app[STATE])


def export_request(source: SourceName = "export_job", *, window: tuple[datetime, datetime] | None = None,
                   session_ids: list[str] | None = None, session_range: SessionRange | None = None,
                   export_id: str = "exp-test", **options: Any) -> ExportRequest:
    start, end = window or dataset_window()
    given = window is not None or not session_ids  # session ids alone: no window unless one is given
    return ExportRequest(export_id=export_id, window=TimeWindow(start, end) if given else None,
                         session_ids=session_ids or [], session_range=session_range, source=source,
                         options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")], **options))


@dataclass
class Fetched:
    pages: list[FetchedPage]
    checkpoints: list[FetchCheckpoint]
    percents: list[int]
    stats: FetchStats

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for page in self.pages for r in msgspec.json.decode(page.body)["items"]]


class ListSink:
    def __init__(self) -> None:
        self.pages: list[FetchedPage] = []
        self.checkpoints: list[FetchCheckpoint] = []
        self.percents: list[int] = []

    async def job_created(self, checkpoint: FetchCheckpoint) -> None:
        self.checkpoints.append(checkpoint)

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None:
        self.percents.append(percent)

    async def page(self, index: int, page: FetchedPage, checkpoint: FetchCheckpoint) -> None:
        self.pages.append(page)
        self.checkpoints.append(checkpoint)


async def fetch_all(settings: Settings, request: ExportRequest, checkpoint: FetchCheckpoint | None = None) -> Fetched:
    """One export through the fetcher logic (no Kafka), every page kept in memory."""
    api = ApiClient(settings)
    sink = ListSink()
    try:
        await run_export(open_source(request.source, api, settings), request, checkpoint, sink, asyncio.Event(),
                         settings.cognigy.poll_interval_seconds, settle_seconds=settings.cognigy.settle_seconds)
    finally:
        await api.close()
    return Fetched(sink.pages, sink.checkpoints, sink.percents, api.stats)
