"""Everything a running simulator remembers, shared by its route modules."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from simulator.config import SimulatorConfig
from simulator.dataset import Dataset
from simulator.export_jobs import ExportJob
from simulator.rate_limit import SlidingWindowLimiter


@dataclass(frozen=True)
class Grant:
    """An issued access token: when it dies and what it may do."""

    expires_at: float  # monotonic
    grants: frozenset[str]


@dataclass
class State:
    config: SimulatorConfig
    dataset: Dataset
    timestamps: list[datetime]  # parsed record timestamps, parallel to dataset.records
    sessions: dict[str, list[dict[str, Any]]]  # session id -> its records, in time order
    token_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    access_tokens: dict[str, Grant] = field(default_factory=dict)
    jobs: dict[str, ExportJob] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route" -> count
    responses: Counter[int] = field(default_factory=Counter)  # status -> count
    pages_served: dict[str, Counter[int]] = field(default_factory=dict)  # job id -> page index -> count
    rate_limited: int = 0
    api_requests: int = 0  # what counted faults count
    throttle_left: int = 0  # 429s still due in the current burst
    limiter: SlidingWindowLimiter | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def create(cls, config: SimulatorConfig, dataset: Dataset) -> State:
        dataset = _tied(dataset, config.faults.tied_records)
        sessions: dict[str, list[dict[str, Any]]] = {}
        for record in dataset.records:
            sessions.setdefault(record["sessionId"], []).append(record)
        limit = config.rate_limit_requests
        return cls(config=config, dataset=dataset,
                   timestamps=[datetime.fromisoformat(record["timestamp"]) for record in dataset.records],
                   sessions=sessions,
                   limiter=SlidingWindowLimiter(limit, config.rate_limit_window_seconds) if limit > 0 else None)

    def visible(self) -> tuple[list[dict[str, Any]], list[datetime]]:
        """The records (and their timestamps) a query sees now: the newest `late_records` only once
        `late_seconds` have passed since the simulator started."""
        faults = self.config.faults
        late = faults.late_records if time.monotonic() - self.started < faults.late_seconds else 0
        seen = max(0, len(self.dataset.records) - late)
        return self.dataset.records[:seen], self.timestamps[:seen]


def _tied(dataset: Dataset, count: int) -> Dataset:
    """`count` records from the middle given the timestamp of the last of them, which keeps the dataset in
    time order (ties in their old order)."""
    records = list(dataset.records)
    first = max(0, (len(records) - count) // 2)
    block = records[first:first + count]
    if not block:
        return dataset
    moment = block[-1]["timestamp"]
    records[first:first + count] = [{**record, "timestamp": moment} for record in block]
    return Dataset(records=records, ground_truth=dataset.ground_truth)


STATE = web.AppKey("simulator_state", State)
