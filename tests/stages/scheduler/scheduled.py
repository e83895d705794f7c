"""Reading what a scheduled pipeline did: the schedules, the requests it submitted, the records it archived."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from cognigy_archiver.local_pipeline import Pipeline
from cognigy_archiver.processes import child_env
from shared.archive.reader import read_export_records
from shared.archive.storage import FilesystemStore
from shared.export_requests import read_schedules
from shared.kafka.tables import read_topic
from shared.kafka.topics import EXPORTS
from shared.messages import ExportRequest, ScheduleState, decode
from shared.settings import Settings


async def cli(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `cognigy-archiver` command against the pipeline's broker and topics."""
    env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": pipeline.settings.kafka.bootstrap_servers,
                     "CA_TOPIC_PREFIX": pipeline.settings.kafka.topic_prefix, "CA_COGNIGY_SETTLE_SECONDS": "0",
                     "COLUMNS": "200"})
    command = [sys.executable, "-m", "cognigy_archiver.cli", *args]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=60)


async def schedule_states(source: Pipeline | Settings) -> dict[str, ScheduleState]:
    return await read_schedules(source.settings if isinstance(source, Pipeline) else source)


def idle_continuous_schedule() -> dict[str, str]:
    """The continuous schedule from the current hour on: nothing of it settles during a test."""
    hour = math.floor(time.time() / 3600) * 3600
    return {"CA_SCHEDULE_SINCE": datetime.fromtimestamp(hour, UTC).isoformat(), "CA_SCHEDULE_TICK_SECONDS": "0.2"}


async def eventually(pipeline: Pipeline, condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Until `condition` holds; fails naming `what` (with the stages' logs) after `timeout` or if a stage died."""
    deadline = time.monotonic() + timeout
    while not await condition():
        dead = [name for name in pipeline.procs.procs if not pipeline.procs.alive(name)]
        assert not dead, f"{dead} exited early: {pipeline.tail_logs()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {pipeline.tail_logs()}"
        await asyncio.sleep(0.3)


async def submitted_requests(pipeline: Pipeline) -> list[ExportRequest]:
    """Every request on `exports`, in order."""
    return [decode(record.value, ExportRequest)
            async for record in read_topic(pipeline.settings, pipeline.settings.kafka.topic(EXPORTS))]


async def submitted(pipeline: Pipeline) -> Counter[str]:
    """How often each export id was requested on `exports`."""
    return Counter(request.export_id for request in await submitted_requests(pipeline))


async def archived_records(pipeline: Pipeline, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """The archived records of each export whose id starts with `prefix` (those with a manifest: completed)."""
    store = FilesystemStore(pipeline.archive)
    return {folder.name: await read_export_records(store, folder.name)
            for folder in sorted(pipeline.archive.glob(f"{prefix}*")) if (folder / "manifest.json").exists()}


async def archived_ids(pipeline: Pipeline, prefix: str) -> Counter[str]:
    """Every archived record id of the exports whose ids start with `prefix`, counted."""
    return Counter(record["id"] for records in (await archived_records(pipeline, prefix)).values()
                   for record in records)
