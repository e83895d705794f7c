"""The fetcher against the simulator (run as its own process, over real HTTP).

1. Pacing under a strict limit: the simulator allows `LIMIT` requests per `WINDOW` seconds per client and
   answers 429 beyond; the fetcher is told the same limit. Reported: the request rate the simulator saw at
   steady state (after the first window, whose start holds the token bucket's burst) as a share of the
   allowed rate, and every 429 the simulator sent.
2. Concurrency when the limit is generous: pages/s at concurrency 1 and 4, against a simulator with 20 ms of
   latency per response, for the REST source (one independent request per session) and the export-job
   source (each page's request needs the previous page's token).

Run: `.venv/bin/python -m bench.fetcher_bench` -> bench/results/fetcher.json
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from cognigy_archiver.localkafka import free_port
from shared.messages import ExportOptions, ExportRequest, PiiRule, SourceName, TimeWindow
from shared.settings import Settings, load_settings
from simulator.config import DEMO_API_KEY, SimulatorConfig, dataset_window
from simulator.dataset import generate_dataset
from simulator.server import run
from stages.fetcher.to_directory import fetch_to_directory

RESULTS = Path(__file__).parent / "results" / "fetcher.json"
LIMIT, WINDOW = 60, 10.0  # 6 requests/s: 1,000 per 5 minutes is 3.3/s, the same shape at a bench's pace
STRICT_CONVERSATIONS, STRICT_PAGE_SIZE = 300, 9  # about 270 requests: 45 s at the limit
LATENCY = 0.02


class Simulator:
    """The simulator in a process of its own, so it does not share the client's event loop or core."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = SimulatorConfig(**{**_fields(config), "port": self.port})
        self.process = multiprocessing.Process(target=run, args=(config,), daemon=True)

    def __enter__(self) -> Simulator:
        self.process.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/_sim/stats", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("simulator did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            body: dict[str, Any] = (await http.get(self.url + "/_sim/stats")).json()
        return body


def _fields(config: SimulatorConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__struct_fields__}


def settings_for(url: str, **env: str) -> Settings:
    return load_settings({"CA_COGNIGY_BASE_URL": url, "CA_COGNIGY_AUTH": "api_key", "CA_COGNIGY_API_KEY": DEMO_API_KEY,
                          "CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.05", **{f"CA_{k}": v for k, v in env.items()}})


def request_for(source: SourceName, session_ids: list[str] | None = None) -> ExportRequest:
    start, end = dataset_window()
    return ExportRequest(export_id=f"bench-{source}", source=source, session_ids=session_ids or [],
                         window=None if session_ids else TimeWindow(start, end),
                         options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")]))


async def strict_limit() -> dict[str, Any]:
    config = SimulatorConfig(conversations=STRICT_CONVERSATIONS, page_size=STRICT_PAGE_SIZE, rate_limit_requests=LIMIT,
                             rate_limit_window_seconds=WINDOW)
    with Simulator(config) as sim, tempfile.TemporaryDirectory() as out:
        settings = settings_for(sim.url, COGNIGY_RATE_LIMIT_REQUESTS=str(LIMIT),
                                COGNIGY_RATE_LIMIT_PERIOD_SECONDS=str(WINDOW))
        samples: list[tuple[float, int]] = []
        fetch = asyncio.create_task(fetch_to_directory(settings, request_for("export_job"), Path(out)))
        while not fetch.done():
            stats = await sim.stats()
            samples.append((time.monotonic(), sum(stats["requests"].values())))
            await asyncio.sleep(0.5)
        summary = await fetch
        stats = await sim.stats()
    first = samples[0][0]
    steady = [(t, n) for t, n in samples if t - first >= WINDOW]
    (t0, n0), (t1, n1) = steady[0], steady[-1]
    allowed = LIMIT / WINDOW
    return {
        "limit": f"{LIMIT} requests per {WINDOW:.0f} s ({allowed:.1f}/s)",
        "requests": summary.requests, "pages": summary.pages, "duration_seconds": summary.duration_seconds,
        "steady_state_seconds": round(t1 - t0, 1),
        "steady_state_requests_per_second": round((n1 - n0) / (t1 - t0), 3),
        "steady_state_share_of_allowed": round((n1 - n0) / (t1 - t0) / allowed, 3),
        "whole_run_share_of_allowed": round(summary.requests_per_second / allowed, 3),
        "responses_429_seen_by_simulator": stats["rate_limited"],
        "responses_429_seen_by_fetcher": summary.throttled,
    }


async def pages_per_second(source: SourceName, concurrency: int) -> dict[str, Any]:
    config = SimulatorConfig(conversations=120, page_size=10, page_delay_seconds=LATENCY,
                             request_delay_seconds=LATENCY)
    sessions = sorted({r["sessionId"] for r in generate_dataset(config.seed, config.conversations,
                                                                 config.dataset_start).records})
    with Simulator(config) as sim, tempfile.TemporaryDirectory() as out:
        settings = settings_for(sim.url, COGNIGY_MAX_CONCURRENCY=str(concurrency),
                                COGNIGY_RATE_LIMIT_REQUESTS="100000", COGNIGY_RATE_LIMIT_PERIOD_SECONDS="1")
        request = request_for(source, sessions if source == "rest" else None)
        summary = await fetch_to_directory(settings, request, Path(out))
    return {"source": source, "concurrency": concurrency, "pages": summary.pages,
            "seconds": summary.duration_seconds, "pages_per_second": summary.pages_per_second}


async def main() -> None:
    results: dict[str, Any] = {"python": platform.python_version(), "cpus": multiprocessing.cpu_count()}
    results["strict_limit"] = await strict_limit()
    print(json.dumps(results["strict_limit"], indent=2), flush=True)
    results["latency_per_response_seconds"] = LATENCY
    results["concurrency"] = [await pages_per_second(source, c) for source in ("rest", "export_job") for c in (1, 4)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
