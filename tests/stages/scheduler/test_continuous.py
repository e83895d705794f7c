"""Continuous archiving end to end: a tenant whose conversations keep arriving, some of them late, archived
window by window while the scheduler and the fetcher are SIGKILLed: every record exactly once."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from cognigy_archiver.local_pipeline import Pipeline, start_pipeline
from shared.kafka.tables import read_table
from shared.kafka.topics import FETCH_CHECKPOINTS
from shared.messages import CheckpointEntry, FetchCheckpoint
from shared.settings import Settings
from stages.scheduler.windows import window_export_id
from tests.stages.scheduler.scheduled import (
    archived_ids,
    archived_records,
    eventually,
    schedule_states,
    submitted,
    submitted_requests,
)

WINDOW, OVERLAP, SETTLE = 2.0, 5.0, 1.0
LATE_BY = 3.0  # under overlap + settle: every late record must still be caught
SPAN = 30.0


async def test_records_arriving_late_through_kills_are_archived_exactly_once(settings: Settings,
                                                                            tmp_path: Path) -> None:
    start = datetime.fromtimestamp(int(time.time()) + 8, UTC)  # the pipeline starts before the first arrival
    faults = {"live": True, "late_every": 7, "late_by_seconds": LATE_BY}
    env = {"CA_SCHEDULE_SINCE": start.isoformat(), "CA_SCHEDULE_WINDOW_SECONDS": str(WINDOW),
           "CA_SCHEDULE_OVERLAP_SECONDS": str(OVERLAP), "CA_COGNIGY_SETTLE_SECONDS": str(SETTLE),
           "CA_SCHEDULE_TICK_SECONDS": "0.2", "CA_SCHEDULE_RETRY_BASE_SECONDS": "1"}
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "30", "--dataset-start", start.isoformat(),
                                    "--dataset-seconds", str(SPAN), "--faults", json.dumps(faults), extra_env=env)
    try:
        pipeline.procs.start_stage("scheduler")
        arrivals = await pipeline.simulator_lines("/_sim/arrivals")
        late = {a["id"] for a in arrivals if a["visible_at"] and a["visible_at"] > a["timestamp"]}
        assert len(arrivals) > 150 and len(late) > 20
        # Kills while records arrive: each stage killed mid-run twice, at different moments.
        for stage, at in (("scheduler", 6), ("fetcher", 12), ("scheduler", 19), ("fetcher", 25)):
            await asyncio.sleep(max(0.0, start.timestamp() + at - time.time()))
            pipeline.procs.kill(stage)
            pipeline.procs.start_stage(stage)
        everything = {a["id"] for a in arrivals}
        await eventually(pipeline, partial(_archived_all, pipeline, everything), SPAN + 90, "every record archived")
        # Stopped first: it goes on submitting windows after the last record, and the state must be its last word.
        assert pipeline.procs.stop("scheduler") == 0
        ids = await archived_ids(pipeline, "continuous-")
        requests = await submitted(pipeline)
        requested = await submitted_requests(pipeline)
        state = (await schedule_states(pipeline))["continuous"]
        checkpoints = await read_table(settings, settings.kafka.topic(FETCH_CHECKPOINTS), CheckpointEntry)
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert {n: c for n, c in codes.items() if c != 0} == {}, pipeline.tail_logs()
    assert sorted(ids.elements()) == sorted(everything)  # every record, once
    # Windows back to back from the start, none skipped, each requested once (kills repeat nothing; windows that
    # settled while the scheduler was down go as one).
    assert set(requests.values()) == {1}, requests
    windows = sorted((r.window.start, r.window.end, r.export_id) for r in requested if r.window is not None)
    assert windows[0][2] == window_export_id("continuous", start) and windows[-1][1] == state.watermark
    for (_, end, _), (read_from, _, export_id) in itertools.pairwise(windows):
        assert export_id == window_export_id("continuous", end)
        assert read_from == max(start, end - timedelta(seconds=OVERLAP))
    # The overlap re-read what earlier windows had passed on (skipped as duplicates), and caught late records
    # in a window after their own.
    duplicates = sum(cp.duplicates for cp in checkpoints.values() if isinstance(cp, FetchCheckpoint))
    assert duplicates > 0
    assert await _caught_in_overlap(pipeline, late) > 0


async def _archived_all(pipeline: Pipeline, everything: set[str]) -> bool:
    return set(await archived_ids(pipeline, "continuous-")) >= everything


async def _caught_in_overlap(pipeline: Pipeline, late: set[str]) -> int:
    """Late records archived by a window after the one their timestamp falls in."""
    caught = 0
    for export_id, records in (await archived_records(pipeline, "continuous-")).items():
        window_start = datetime.strptime(export_id.removeprefix("continuous-"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        caught += sum(1 for r in records if r["id"] in late and datetime.fromisoformat(r["timestamp"]) < window_start)
    return caught
