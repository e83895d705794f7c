"""`demo --plot PNG`: sample every stage's /metrics while the demo runs, then draw throughput and consumer
lag per stage over time (the picture in docs/, and a quick look for anyone without Grafana)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared.errors import ArchiverError

RECORDS = "cognigy_archiver_records_processed_total"
LAG = "cognigy_archiver_consumer_lag"


def pyplot() -> Any:
    """matplotlib's pyplot, drawing to files (no display); a clear error when the `bench` extra is missing, for a
    caller to hit before it spends minutes measuring."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ArchiverError("plots need matplotlib: .venv/bin/pip install -e '.[bench]' (`make bench` does)") from None
    return plt


def metric_sum(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith((name + "{", name + " ")))


@dataclass
class MetricsSampler:
    ports: dict[str, int]
    samples: list[tuple[float, dict[str, tuple[float, float]]]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            while not stop.is_set():
                row = {}
                for stage, port in self.ports.items():
                    try:
                        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                    except httpx.HTTPError:
                        continue  # not up yet
                    row[stage] = (metric_sum(text, RECORDS), metric_sum(text, LAG))
                self.samples.append((time.monotonic() - self.started, row))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

    def plot(self, path: Path) -> None:
        plt = pyplot()
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
        for stage in self.ports:
            points = [(t, row[stage]) for t, row in self.samples if stage in row]
            rates = [(b[0], (b[1][0] - a[1][0]) / (b[0] - a[0])) for a, b in itertools.pairwise(points)]
            if rates:
                top.plot(*zip(*rates, strict=True), label=stage)
            if points:
                bottom.plot([t for t, _ in points], [v[1] for _, v in points], label=stage)
        top.set_ylabel("records / s")
        top.set_title("cognigy-archiver demo: throughput and consumer lag per stage")
        bottom.set_ylabel("consumer lag (messages)")
        bottom.set_xlabel("seconds since the stages started")
        for axis in (top, bottom):
            axis.legend(loc="upper right", fontsize="small")
            axis.grid(alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
