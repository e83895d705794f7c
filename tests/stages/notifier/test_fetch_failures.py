"""A fetch that gives up is announced: the real pipeline (five stage processes, the simulator, the broker), an
export job the simulator fails, a signed-webhook receiver. The `export.status` failed event carries the reason,
the audit log has one entry per failed attempt (across a SIGKILLed notifier too), and `export status` says why."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cognigy_archiver.local_pipeline import Pipeline, start_pipeline
from cognigy_archiver.processes import child_env
from shared.archive.audit import authentic_entries
from shared.export_requests import publish_request
from shared.kafka.tables import read_topic
from shared.kafka.topics import PAGES_RAW, PAGES_SANITIZED
from shared.messages import FetchPaused, PageMessage, SanitizedMessage, decode
from shared.settings import Settings
from stages.notifier.webhook_payloads import ExportStatusEvent

pytestmark = pytest.mark.timeout(300)
REASON = "index shard 3 unavailable"


def failure_events(pipeline: Pipeline, export_id: str) -> list[dict[str, Any]]:
    events = [e for e in pipeline.receiver.unique_events.values() if e["type"] == "export.status"
              and e["data"]["export_id"] == export_id and e["data"]["state"] == "failed"]
    for event in events:
        msgspec.convert(event, ExportStatusEvent)  # as published (docs/schemas/), no field more or less
    return events


def audit_failures(pipeline: Pipeline, export_id: str) -> list[dict[str, Any]]:
    path = Path(pipeline.settings.audit.log_path)
    lines = path.read_bytes().splitlines() if path.exists() else []
    return [e for e in authentic_entries(lines, pipeline.settings.audit.hmac_key.reveal().encode())
            if e["action"] == "export fetch failed" and e["export_id"] == export_id]


async def paused_markers(pipeline: Pipeline, export_id: str, topic: str) -> set[tuple[int, str]]:
    """(partition, attempt) of the export's FetchPaused markers on a page topic, once they are all through."""
    kind = PageMessage if topic == PAGES_RAW else SanitizedMessage
    name = pipeline.settings.kafka.topic(topic)
    for _ in range(150):
        found = {(r.partition, m.attempt) async for r in read_topic(pipeline.settings, name)
                 if isinstance(m := decode(r.value, kind), FetchPaused) and m.export_id == export_id}
        if len(found) >= 2 * pipeline.settings.kafka.page_partitions:
            break
        await asyncio.sleep(0.2)
    return found


def log_count(pipeline: Pipeline, stage: str, text: str) -> int:
    return (pipeline.procs.log_dir / f"{stage}.log").read_text(errors="replace").count(text)


async def export_status(pipeline: Pipeline, export_id: str) -> subprocess.CompletedProcess[str]:
    env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": pipeline.settings.kafka.bootstrap_servers,
                     "CA_TOPIC_PREFIX": pipeline.settings.kafka.topic_prefix, "COLUMNS": "200"})
    command = [sys.executable, "-m", "cognigy_archiver.cli", "export", "status", export_id]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=60)


async def test_a_fetch_that_gives_up_is_announced_once_per_attempt_with_its_reason(
        settings: Settings, tmp_path: Path) -> None:
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "30",
                                    "--faults", json.dumps({"job_fails_with": REASON}),
                                    extra_env={"CA_WEBHOOK_EVENTS": "archival.completed,export.status"})
    try:
        request = await pipeline.submit()
        export_id = request.export_id
        await pipeline.wait_until(lambda: bool(failure_events(pipeline, export_id)), 90, "the failed webhook")
        [event] = failure_events(pipeline, export_id)
        assert event["data"]["stage"] == "fetcher" and event["data"]["error"]["error"] == "export_job_failed"
        assert REASON in event["data"]["error"]["message"]
        [entry] = audit_failures(pipeline, export_id)
        assert entry["data"]["message"] == event["data"]["error"]["message"]

        # A crash of the notifier after it announced: restored from its changelog, it announces nothing again.
        pipeline.procs.kill("notifier")
        pipeline.procs.start_stage("notifier")
        await pipeline.wait_until(lambda: log_count(pipeline, "notifier", "restored 1 exports") >= 1, 60,
                                  "the notifier to restore the failed export")
        await asyncio.sleep(2)
        assert len(failure_events(pipeline, export_id)) == 1 and len(audit_failures(pipeline, export_id)) == 1

        # Submitted again (it would resume), it fails again: a second attempt, announced once under its own id.
        await publish_request(pipeline.settings, request)
        await pipeline.wait_until(lambda: len(failure_events(pipeline, export_id)) == 2, 90, "the second failure")
        await asyncio.sleep(2)
        entries = audit_failures(pipeline, export_id)
        assert len(entries) == 2 and entries[0]["data"]["request"] != entries[1]["data"]["request"]
        assert len(failure_events(pipeline, export_id)) == 2

        # Each attempt's pause marker crossed the page topics on every partition, for the archiver to write
        # what it holds of the export.
        for topic in (PAGES_RAW, PAGES_SANITIZED):
            assert await paused_markers(pipeline, export_id, topic) == {
                (partition, attempt["data"]["request"]) for partition in range(pipeline.settings.kafka.page_partitions)
                for attempt in entries}, topic

        result = await export_status(pipeline, export_id)
        assert result.returncode == 1, result.stderr
        assert "state failed" in result.stdout and "no errors" not in result.stdout
        assert REASON in " ".join(result.stdout.split()), result.stdout
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert {n: c for n, c in codes.items() if c != 0} == {}, pipeline.tail_logs()
