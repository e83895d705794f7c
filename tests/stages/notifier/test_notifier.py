"""The archiver and the notifier together on the real broker: an export counted complete gets exactly one
accepted `archival.completed` event through a failing receiver, and no resend after a restart; a dead
endpoint delays no other export; an export over its storage quota fails cleanly."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from shared.archive.reader import verify_export
from shared.archive.segments import failure_key
from shared.archive.storage import FilesystemStore
from shared.kafka.clients import plain_producer
from shared.kafka.tables import topic_values
from shared.kafka.topics import EXPORTS_STATUS, FETCH_CHECKPOINTS, PAGES_SANITIZED
from shared.messages import ExportOptions, ExportStatus, ExportTotal, FetchCheckpoint, encode
from shared.settings import Secret, Settings
from stages.archiver import stage as archiver
from stages.notifier import stage as notifier
from tests.archive_fixtures import produce_pages, sanitized_pages, segment_events
from tests.stages.notifier.webhook_receivers import Receiver, start

AUDIT_KEY = "notifier-test-audit-key-0123456789"


def configured(settings: Settings, *hooks: Receiver, events: str = "") -> Settings:
    webhooks = msgspec.structs.replace(
        settings.webhooks, urls=",".join(r.url for r in hooks), secret=Secret(",".join(r.secret for r in hooks)),
        events=events, retry_base_seconds=0.2, timeout_seconds=20)
    audit = msgspec.structs.replace(settings.audit, hmac_key=Secret(AUDIT_KEY))
    return msgspec.structs.replace(settings, webhooks=webhooks, audit=audit)


@asynccontextmanager
async def running(settings: Settings, *stages: Callable[[Settings, asyncio.Event], Coroutine[Any, Any, None]],
                  ) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(stage(settings, stop)) for stage in stages]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


async def send(settings: Settings, topic: str, message: msgspec.Struct, key: str) -> None:
    producer = plain_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic(topic), encode(message), key=key.encode())
    finally:
        await producer.stop()


def fetcher_checkpoint(export_id: str, pages: int, records: int, started_at: datetime,
                       done: bool = True) -> FetchCheckpoint:
    return FetchCheckpoint(export_id=export_id, job_id="job", next_page_index=pages, resume_token=None,
                           records=records, started_at=started_at, done=done)


async def submit(settings: Settings, export_id: str, pages: int, options: ExportOptions | None = None,
                 per_page: int = 10) -> None:
    """What the fetcher would do: the pages, its done checkpoint, then the total that agrees with it."""
    await produce_pages(settings, sanitized_pages(export_id, pages, per_page, options))
    started_at = datetime.now(UTC)
    await send(settings, FETCH_CHECKPOINTS, fetcher_checkpoint(export_id, pages, pages * per_page, started_at),
               export_id)
    total = ExportTotal(export_id=export_id, total_pages=pages, total_records=pages * per_page, started_at=started_at)
    await send(settings, PAGES_SANITIZED, total, export_id)


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def audit_actions(settings: Settings) -> list[tuple[str, str]]:
    path = Path(settings.audit.log_path)
    lines = path.read_bytes().splitlines() if path.exists() else []
    return [(e["action"], e["export_id"]) for e in map(json.loads, lines)]


async def test_one_accepted_event_through_a_failing_receiver_and_none_after_a_restart(
        topics: Settings, receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[500, 503, 500, 204])
    settings = configured(topics, receiver, events="archival.completed")
    await submit(settings, "exp-ok", 12)
    async with running(settings, archiver.run, notifier.run):
        await until(lambda: ("webhook delivered", "exp-ok") in audit_actions(settings), 60, "the delivery")
    [accepted] = receiver.accepted()
    assert len(receiver.requests) == 4 and {r.msg_id for r in receiver.requests} == {accepted.msg_id}
    data = accepted.body["data"]
    assert (data["records"], data["pages"], data["partial"]) == (120, 12, False)
    assert data["throughput_mb_s"] > 0 and data["manifest"].endswith("exp-ok/manifest.json")
    assert (await verify_export(FilesystemStore(settings.archive.path), "exp-ok")).ok
    # Restarted, the notifier restores the delivered state from its changelog: nothing is sent again.
    async with running(settings, notifier.run):
        await asyncio.sleep(3)
    assert len(receiver.requests) == 4
    assert audit_actions(settings) == [("export archived", "exp-ok"), ("webhook delivered", "exp-ok")]


async def test_a_dead_endpoint_delays_no_other_export(topics: Settings, receivers: list[Receiver]) -> None:
    dead = await start(receivers, hang=60)
    live = await start(receivers)
    settings = configured(topics, dead, live, events="archival.completed")
    async with running(settings, archiver.run, notifier.run):
        await submit(settings, "exp-a", 3)
        await until(lambda: len(live.accepted()) == 1, 30, "the first export's event")
        started = time.monotonic()
        await submit(settings, "exp-b", 3)
        await until(lambda: len(live.accepted()) == 2, 30, "the second export's event")
        assert time.monotonic() - started < 10  # not held up by the first export's hanging delivery
    assert {r.body["data"]["export_id"] for r in live.accepted()} == {"exp-a", "exp-b"}
    assert dead.accepted() == []


async def test_an_export_over_its_quota_fails_cleanly(topics: Settings, receivers: list[Receiver]) -> None:
    receiver = await start(receivers)
    settings = configured(topics, receiver)
    store = FilesystemStore(settings.archive.path)
    pages = sanitized_pages("exp-big", 16, 4, ExportOptions(max_storage_mb=1))
    for page in pages:  # incompressible text: about 130 KB per page as stored
        for record in page.records:
            record["inputText"] = secrets.token_hex(16_000)
    await produce_pages(settings, pages)
    async with running(settings, archiver.run, notifier.run):
        await until(lambda: len(receiver.accepted("export.status")) == 2, 60, "the failed status event")
        # Pages archived after the failure are deleted as the notifier hears of them.
        for _ in range(150):
            if len(await segment_events(settings)) == len(pages):
                break
            await asyncio.sleep(0.2)
        await until(lambda: not list((settings.archive.path / "exp-big").glob("*/*")), 30, "the last deletion")
    started, failed = sorted(receiver.accepted(), key=lambda r: r.at)
    assert (started.body["data"]["state"], failed.body["data"]["state"]) == ("started", "failed")
    error = failed.body["data"]["error"]
    assert error["error"] == "quota_exceeded" and error["details"]["max_storage_mb"] == 1
    assert error["details"]["archived_bytes"] > 1_000_000
    statuses = [msgspec.msgpack.decode(v, type=ExportStatus) for v in await topic_values(settings, EXPORTS_STATUS)]
    [status] = [s for s in statuses if s.stage == "notifier"]
    assert status.state == "failed" and json.loads(status.detail)["error"] == "quota_exceeded"
    # Nothing half-written is left, nothing says complete, and the reason is on record.
    assert await store.keys("exp-big") == [failure_key("exp-big")]
    assert (await verify_export(store, "exp-big")).problems[0].startswith("no manifest: the export failed: export "
                                                                          "exp-big needs more than its storage quota")
    assert audit_actions(settings).count(("export failed", "exp-big")) == 1
    assert not any(r.event_type == "archival.completed" for r in receiver.requests)
