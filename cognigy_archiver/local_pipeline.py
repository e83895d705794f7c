"""Running the real pipeline on one machine, for the end-to-end tests and the benchmarks: the simulator and
the five stages as OS processes against a real broker, a signed-webhook receiver, and readers for what came
out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from cognigy_archiver.localkafka import free_port
from cognigy_archiver.processes import ProcessGroup, child_env
from cognigy_archiver.stages import PIPELINE_STAGES
from cognigy_archiver.webhook_receiver import WebhookReceiver
from shared.archive.segments import SegmentMeta, page_parts
from shared.errors import ArchiverError
from shared.export_requests import build_request, publish_request
from shared.kafka.topics import create_topics
from shared.messages import ExportRequest
from shared.settings import Settings, load_settings
from simulator.config import DEMO_CREDENTIALS
from simulator.server import dataset_window
from stages.fetcher.pages import carried_context, page_body
from stages.sanitizer.engine import PiiEngine

PAGE_SIZE = 25


@dataclass
class Pipeline:
    settings: Settings
    procs: ProcessGroup
    receiver: WebhookReceiver
    simulator_url: str
    work_dir: Path

    @property
    def archive(self) -> Path:
        return self.settings.archive.path

    async def submit(self) -> ExportRequest:
        start, end = dataset_window()
        request = build_request(start.isoformat(), end.isoformat(), [], [], "parquet", None, None, None)
        await publish_request(self.settings, request)
        return request

    def archived_pages(self, export_id: str) -> int:
        """Pages written to the archive so far (a Parquet file holds several)."""
        metas = [msgspec.json.decode(p.read_bytes(), type=SegmentMeta)
                 for p in (self.archive / export_id / "segments").glob("*.meta.json")]
        return len({part.page_index for meta in metas for part in page_parts(meta)})

    async def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            dead = [n for n in self.procs.procs if not self.procs.alive(n)]
            if dead:
                raise ArchiverError(f"{dead} exited early; logs in {self.procs.log_dir}: {self.tail_logs()}")
            if time.monotonic() >= deadline:
                raise ArchiverError(f"timed out waiting for {what}; logs: {self.tail_logs()}")
            await asyncio.sleep(0.1)

    async def wait_for_webhook(self, timeout: float = 120.0) -> dict[str, Any]:
        await self.wait_until(lambda: bool(self.receiver.unique_events), timeout, "the completion webhook")
        return next(iter(self.receiver.unique_events.values()))

    async def pages_served(self) -> list[int]:
        """How often the simulator served each page index (over all export jobs)."""
        served: dict[int, int] = {}
        for pages in (await self.simulator_stats())["pages_served"].values():
            for index, count in pages.items():
                served[int(index)] = served.get(int(index), 0) + count
        return [served[i] for i in sorted(served)]

    async def wait_until_fetched(self, pages: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(await self.pages_served()) < pages:
            if time.monotonic() >= deadline:
                raise ArchiverError(f"fetcher did not reach page {pages}: {self.tail_logs()}")
            await asyncio.sleep(0.05)

    def tail_logs(self) -> str:
        parts = []
        for log in sorted(self.procs.log_dir.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    async def simulator_lines(self, path: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.simulator_url) as http:
            response = await http.get(path)
            response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    async def simulator_stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.simulator_url) as http:
            stats: dict[str, Any] = (await http.get("/_sim/stats")).json()
        return stats


async def start_pipeline(settings: Settings, work_dir: Path, *simulator_args: str,
                         extra_env: dict[str, str] | None = None,
                         stage_env: dict[str, dict[str, str]] | None = None) -> Pipeline:
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = WebhookReceiver(webhook_secret)
    hook_url = await receiver.start()
    port = free_port()
    env = child_env({
        "CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "CA_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "CA_INSTANCE_ID": "e2e",
        "CA_ARCHIVE_DIR": str(settings.archive.path),
        "CA_ARCHIVE_KEY_STORE": settings.archive.key_store,
        "CA_AUDIT_LOG_PATH": settings.audit.log_path,
        "CA_TOKENIZATION_KEY": settings.pii.tokenization_key.reveal(),
        "CA_WEBHOOK_SECRET": webhook_secret,
        "CA_WEBHOOK_URLS": hook_url,
        "CA_WEBHOOK_EVENTS": "archival.completed",  # the tests count this one event (status events: notifier tests)
        "CA_AUDIT_HMAC_KEY": "e2e-audit-hmac-key-0123456789abcdef",
        "CA_COGNIGY_BASE_URL": f"http://127.0.0.1:{port}",
        **DEMO_CREDENTIALS,
        "CA_SHUTDOWN_GRACE_SECONDS": "10",
        "CA_LOG_LEVEL": "DEBUG",
        **(extra_env or {}),
    })
    settings = load_settings(env)
    await create_topics(settings)
    procs = ProcessGroup(env, work_dir / "logs", stage_env)
    url = procs.start_simulator(port, "--page-size", str(PAGE_SIZE), *simulator_args)
    for stage in PIPELINE_STAGES:
        procs.start_stage(stage)
    return Pipeline(settings, procs, receiver, url, work_dir)


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def sanitized_as_served(records: list[dict[str, Any]], page_size: int, settings: Settings) -> dict[str, str]:
    """Record id -> content hash of `records` sanitized as the pipeline does: in the simulator's pages, with
    the context the fetcher carries across page breaks, by an engine with the same key (tokens are
    deterministic)."""
    engine = PiiEngine(settings.pii.tokenization_key.reveal().encode(), settings.pii.tokenization_key_id)
    expected: dict[str, str] = {}
    previous = b""
    for start in range(0, len(records), page_size):
        page = records[start:start + page_size]
        body = page_body(page)
        carried = carried_context(previous, body) if previous else b""
        context = json.loads(carried)["items"] if carried else []
        expected.update({r["id"]: record_hash(r) for r in engine.sanitize_page(page, [], context).records})
        previous = body
    return expected
