"""The health server: `/healthz` turns 503 while a stage keeps retrying the same batch for long (the archiver on
storage that never comes back, on the real broker), and healthy again once the batch commits; and the server
listens on this host only unless told otherwise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from cognigy_archiver.localkafka import free_port
from cognigy_archiver.processes import ProcessGroup, child_env
from shared.archive.storage import FilesystemStore
from shared.kafka.loop import StageLoop
from shared.kafka.tables import topic_values
from shared.kafka.topics import ARCHIVE_SEGMENTS, PAGES_SANITIZED
from shared.messages import ExportOptions, SanitizedPage, encode, page_key
from shared.settings import Settings
from shared.telemetry.health import HEALTH, start_health_server
from stages.archiver.stage import Archiver
from tests.shared.test_stage_loop import produce


@pytest.fixture
def stuck_after_two_seconds() -> Iterator[None]:
    before = HEALTH.stuck_seconds
    HEALTH.stuck_seconds = 2.0
    try:
        yield
    finally:
        HEALTH.stuck_seconds = before
        HEALTH.batch_committed()


@pytest.fixture
async def health_url() -> AsyncIterator[str]:
    port = free_port()
    runner = await start_health_server(port)
    try:
        yield f"http://127.0.0.1:{port}/healthz"
    finally:
        await runner.cleanup()


async def wait_for_health(url: str, status: int, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                response = await http.get(url)
            except httpx.ConnectError:  # not listening yet
                seen = "not listening"
            else:
                if response.status_code == status:
                    answer: dict[str, object] = response.json()
                    return answer
                seen = f"{response.status_code}: {response.text}"
            assert time.monotonic() < deadline, f"/healthz still {seen}"
            await asyncio.sleep(0.2)


async def test_a_stage_retrying_one_batch_for_long_turns_unhealthy_until_it_commits(
        topics: Settings, tmp_path: Path, health_url: str, stuck_after_two_seconds: None) -> None:
    page = SanitizedPage(export_id="s", page_index=0, records=[{"id": "a", "inputText": "hello"}],
                         redactions=[], key_id="k1", options=ExportOptions())
    await produce(topics, PAGES_SANITIZED, [(page_key("s", 0), encode(page))])
    blocker = tmp_path / "archive"
    blocker.write_text("a file where the archive directory should be")  # every write fails, for good
    loop = StageLoop(topics, "archiver", PAGES_SANITIZED, Archiver(topics, FilesystemStore(blocker)),
                     retry_pause_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        stuck = await wait_for_health(health_url, 503, timeout=30)
        assert str(stuck["reason"]).startswith("retrying the same batch for ")
        assert await topic_values(topics, ARCHIVE_SEGMENTS) == []
        blocker.unlink()  # storage comes back: the batch commits, and the stage is healthy again
        healthy = await wait_for_health(health_url, 200, timeout=30)
        assert str(healthy["reason"]).startswith("last poll")
        assert len(await topic_values(topics, ARCHIVE_SEGMENTS)) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_the_health_server_listens_on_this_host_only(topics: Settings, tmp_path: Path) -> None:
    port = free_port()
    runner = await start_health_server(port)
    try:
        assert runner.addresses == [("127.0.0.1", port)]
    finally:
        await runner.cleanup()
    assert Settings().operations.health_host == "127.0.0.1"
    # A stage process with the defaults: reachable on 127.0.0.1, not on another address of this host.
    env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers,
                     "CA_TOPIC_PREFIX": topics.kafka.topic_prefix, "CA_INSTANCE_ID": "health",
                     "CA_HEALTH_PORT": str(port)})
    procs = ProcessGroup(env, tmp_path / "logs")
    procs.start_stage("verifier")
    try:
        await wait_for_health(f"http://127.0.0.1:{port}/healthz", 200, timeout=30)
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):  # loopback too, but not the address it listens on
                await http.get(f"http://127.0.0.2:{port}/healthz")
    finally:
        assert procs.stop_all() == {"verifier": 0}


def test_a_different_batch_failing_starts_the_clock_again() -> None:
    state = type(HEALTH)(stuck_seconds=0.2)
    state.polled(1)
    state.batch_failed({0: 5}, "storage down")
    time.sleep(0.3)
    state.polled(1)
    ok, reason = state.healthy()
    assert not ok and reason.startswith("retrying the same batch for ") and reason.endswith(": storage down")
    state.batch_failed({0: 6}, "storage down")  # the loop moved on: another batch fails now
    assert state.healthy()[0]
    state.batch_committed()
    time.sleep(0.3)
    assert state.healthy()[0]

