"""Everything a running simulator remembers, shared by its route modules."""

from __future__ import annotations

import bisect
import math
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
    sessions: dict[str, list[dict[str, Any]]]  # session id -> its records, in time order (visible or not)
    session_positions: dict[str, list[int]]  # session id -> the positions of its records in dataset.records
    visible_at: list[float]  # epoch seconds from which each record is visible (-inf: from the start)
    arrivals: list[int]  # record positions, in the order they become visible
    arrival_times: list[float]  # visible_at of `arrivals`, sorted
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
    # What has arrived so far: the first `shown` of `arrivals`, as positions and records in time order.
    shown: int = 0
    shown_positions: list[int] = field(default_factory=list)
    shown_records: list[dict[str, Any]] = field(default_factory=list)
    shown_timestamps: list[datetime] = field(default_factory=list)

    @classmethod
    def create(cls, config: SimulatorConfig, dataset: Dataset) -> State:
        dataset = _tied(dataset, config.faults.tied_records)
        sessions: dict[str, list[dict[str, Any]]] = {}
        session_positions: dict[str, list[int]] = {}
        for position, record in enumerate(dataset.records):
            sessions.setdefault(record["sessionId"], []).append(record)
            session_positions.setdefault(record["sessionId"], []).append(position)
        timestamps = [datetime.fromisoformat(record["timestamp"]) for record in dataset.records]
        visible_at = _visible_at(config, timestamps, time.time())
        arrivals = sorted(range(len(visible_at)), key=lambda position: (visible_at[position], position))
        limit = config.rate_limit_requests
        return cls(config=config, dataset=dataset, timestamps=timestamps, sessions=sessions,
                   session_positions=session_positions,
                   visible_at=visible_at, arrivals=arrivals, arrival_times=[visible_at[p] for p in arrivals],
                   limiter=SlidingWindowLimiter(limit, config.rate_limit_window_seconds) if limit > 0 else None)

    def visible(self) -> tuple[list[dict[str, Any]], list[datetime]]:
        """The records (and their timestamps) a query sees now, in time order: those whose `visible_at` the
        wall clock has passed. A record once shown stays shown, even if the clock steps back."""
        self._arrive()
        return self.shown_records[:], self.shown_timestamps[:]

    def visible_session(self, session_id: str) -> list[dict[str, Any]]:
        """The records of one session a query sees now (as `visible` decides), in time order."""
        self._arrive()
        latest = self.arrival_times[self.shown - 1] if self.shown else -math.inf
        positions = self.session_positions.get(session_id, [])
        return [self.dataset.records[p] for p in positions if self.visible_at[p] <= latest]

    def _arrive(self) -> None:
        """Shows the records whose `visible_at` has passed since the last query."""
        arrived = bisect.bisect_right(self.arrival_times, time.time())
        batch = sorted(self.arrivals[self.shown:arrived])
        last = self.shown_positions[-1] if self.shown_positions else -1
        cut = bisect.bisect(batch, last)
        for position in batch[:cut]:  # late ones: each goes back into its place
            at = bisect.bisect(self.shown_positions, position)
            self.shown_positions.insert(at, position)
            self.shown_records.insert(at, self.dataset.records[position])
            self.shown_timestamps.insert(at, self.timestamps[position])
        # The rest (all of them when not live) go at the end.
        self.shown_positions += batch[cut:]
        self.shown_records += [self.dataset.records[p] for p in batch[cut:]]
        self.shown_timestamps += [self.timestamps[p] for p in batch[cut:]]
        self.shown = max(self.shown, arrived)


def _visible_at(config: SimulatorConfig, timestamps: list[datetime], now: float) -> list[float]:
    """When each record becomes visible (epoch seconds): at once, or at its timestamp if `live`; every
    `late_every`th `late_by_seconds` after its timestamp; the newest `late_records` not before `late_seconds`
    after `now` (the start)."""
    faults = config.faults
    times = [moment.timestamp() if faults.live else -math.inf for moment in timestamps]
    if faults.late_every:
        for position in range(faults.late_every - 1, len(times), faults.late_every):
            times[position] = timestamps[position].timestamp() + faults.late_by_seconds
    for position in range(max(0, len(times) - faults.late_records), len(times)):
        times[position] = max(times[position], now + faults.late_seconds)
    return times


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
