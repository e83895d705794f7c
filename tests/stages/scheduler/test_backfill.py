"""`export backfill`: the scheduler archives history window by window, every record once, with the
scheduler and the fetcher SIGKILLed along the way."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from cognigy_archiver.local_pipeline import Pipeline, start_pipeline
from shared.settings import Settings
from simulator.config import SimulatorConfig
from simulator.dataset import generate_dataset
from stages.scheduler.windows import finished
from tests.stages.scheduler.scheduled import (
    archived_ids,
    cli,
    eventually,
    idle_continuous_schedule,
    schedule_states,
    submitted,
)

WINDOW = 2 * 86400
CONVERSATIONS = 40


async def test_a_backfill_archives_every_record_once_through_kills(settings: Settings, tmp_path: Path) -> None:
    config = SimulatorConfig(conversations=CONVERSATIONS)
    dataset = generate_dataset(config.seed, CONVERSATIONS, config.dataset_start, config.dataset_days)
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", str(CONVERSATIONS),
                                    extra_env={**idle_continuous_schedule(), "CA_COGNIGY_SETTLE_SECONDS": "0"})
    try:
        pipeline.procs.start_stage("scheduler")
        since, until = "2025-01-01T00:00:00Z", "2025-01-31T00:00:00Z"
        result = await cli(pipeline, "export", "backfill", "--since", since, "--until", until,
                           "--window-seconds", str(WINDOW), "--name", "history")
        assert result.returncode == 0, result.stderr
        assert "history: 15 windows" in result.stdout
        await eventually(pipeline, partial(_has, pipeline, "history"), 30, "the backfill to start")
        again = await cli(pipeline, "export", "backfill", "--since", since, "--until", until, "--name", "history")
        assert again.returncode == 2 and "a schedule named 'history' exists" in again.stderr
        for stage, windows in (("scheduler", 3), ("fetcher", 6), ("scheduler", 9), ("scheduler", 10)):
            await eventually(pipeline, partial(_submitted_at_least, pipeline, windows), 90, f"{windows} windows")
            pipeline.procs.kill(stage)
            pipeline.procs.start_stage(stage)
        await eventually(pipeline, partial(_finished, pipeline, "history"), 240, "the backfill to finish")
        status = await cli(pipeline, "schedule", "status")
        requests = await submitted(pipeline)
        ids = await archived_ids(pipeline, "history-")
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert {n: c for n, c in codes.items() if c != 0} == {}, pipeline.tail_logs()
    assert status.returncode == 0 and "history" in status.stdout and "finished" in status.stdout, status.stdout
    history = {export_id: n for export_id, n in requests.items() if export_id.startswith("history-")}
    assert len(history) == 15 and set(history.values()) == {1}, history  # no window skipped, none repeated
    expected = [r["id"] for r in dataset.records if r["timestamp"] < "2025-01-31"]
    assert len(expected) > 100
    assert sorted(ids.elements()) == sorted(expected)  # every record, once


async def _has(pipeline: Pipeline, name: str) -> bool:
    return name in await schedule_states(pipeline)


async def _finished(pipeline: Pipeline, name: str) -> bool:
    state = (await schedule_states(pipeline)).get(name)
    return state is not None and finished(state)


async def _submitted_at_least(pipeline: Pipeline, count: int) -> bool:
    return sum(1 for export_id in await submitted(pipeline) if export_id.startswith("history-")) >= count
