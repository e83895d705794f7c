"""The transactional loop, against the real broker: exactly-once across a SIGKILL, poison to the DLQ,
transient failures retried without loss."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.archive.storage import FilesystemStore
from shared.kafka.clients import plain_producer
from shared.kafka.loop import StageLoop
from shared.kafka.tables import topic_values
from shared.kafka.topics import ARCHIVE_SEGMENTS, DLQ, PAGES_RAW, PAGES_SANITIZED, PAGES_VERIFIED
from shared.messages import (
    DeadLetter,
    ExportOptions,
    RawPage,
    SanitizedPage,
    SegmentWritten,
    VerifiedPage,
    decode,
    encode,
    page_key,
)
from shared.settings import Settings
from stages.archiver.stage import Archiver
from stages.verifier.stage import Verifier


def raw_page(export_id: str, index: int, corrupt: bool = False) -> RawPage:
    body = json.dumps({"items": [{"id": f"r{index}", "sessionId": "s", "timestamp": "2026-10-01T00:00:00Z",
                                  "inputText": "hello"}]}).encode()
    digest = hashlib.sha256(body).hexdigest()
    return RawPage(export_id=export_id, page_index=index, body=body, source_sha256="0" * 64 if corrupt else digest,
                   fetched_at=datetime.now(UTC), options=ExportOptions())


async def produce(settings: Settings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = plain_producer(settings)
    await producer.start()
    try:
        for key, value in items:
            await producer.send(settings.kafka.topic(topic), value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def run_for(loop: StageLoop, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_loop_is_exactly_once_between_two_topics_across_a_sigkill(topics: Settings, tmp_path: Path) -> None:
    settings = topics
    pages = 3000
    await produce(settings, PAGES_RAW, [(page_key("eos", i), encode(raw_page("eos", i))) for i in range(pages)])
    env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
                     "CA_TOPIC_PREFIX": settings.kafka.topic_prefix, "CA_INSTANCE_ID": "eos"})
    procs = ProcessGroup(env, tmp_path / "logs")
    procs.start_stage("verifier")
    # Kill it once output is flowing but long before the input is done.
    for _ in range(600):
        done = len(await topic_values(settings, PAGES_VERIFIED))
        if done >= 200:
            break
        await asyncio.sleep(0.05)
    procs.kill("verifier")
    assert 200 <= done < pages, f"kill came too late or never: {done} pages verified"
    procs.start_stage("verifier")
    for _ in range(600):
        values = await topic_values(settings, PAGES_VERIFIED)
        if len(values) >= pages:
            break
        await asyncio.sleep(0.1)
    assert procs.stop("verifier") == 0
    indexes = Counter(decode(v, VerifiedPage).page_index for v in values)
    assert len(indexes) == pages and set(indexes.values()) == {1}, "lost or duplicated pages"


async def test_poison_goes_to_the_dlq_and_the_loop_goes_on(topics: Settings) -> None:
    settings = topics
    await produce(settings, PAGES_RAW, [
        (b"junk", b"\x00not msgpack"),
        (page_key("e", 0), encode(raw_page("e", 0, corrupt=True))),
        (page_key("e", 1), encode(raw_page("e", 1))),
    ])
    await run_for(StageLoop(settings, "verifier", PAGES_RAW, Verifier(settings)), 6)
    letters = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]
    letters.sort(key=lambda d: d.error_type)  # the three went to different partitions
    assert [d.error_type for d in letters] == ["ChecksumMismatch", "PoisonError"]
    assert "checksum mismatch" in letters[0].reason and letters[0].export_id == "e"
    assert letters[1].key == b"junk" and letters[1].value == b"\x00not msgpack"
    verified = sorted((decode(v, VerifiedPage) for v in await topic_values(settings, PAGES_VERIFIED)),
                      key=lambda p: p.page_index)
    # The corrupt page travels on as dead (so the export completes as partial); the good one as records.
    assert [(p.page_index, p.dead, len(p.records)) for p in verified] == [(0, True, 0), (1, False, 1)]


async def test_storage_failure_is_retried_without_loss(topics: Settings, tmp_path: Path) -> None:
    settings = topics
    page = SanitizedPage(export_id="s", page_index=0, records=[{"id": "a", "inputText": "[PERSON_k1_00]"}],
                         redactions=[], key_id="k1", options=ExportOptions())
    await produce(settings, PAGES_SANITIZED, [(page_key("s", 0), encode(page))])
    blocker = tmp_path / "archive"
    blocker.write_text("a file where the archive directory should be")  # every write fails
    loop = StageLoop(settings, "archiver", PAGES_SANITIZED, Archiver(settings, FilesystemStore(blocker)),
                     retry_pause_seconds=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(4)
    assert await topic_values(settings, ARCHIVE_SEGMENTS) == []
    assert await topic_values(settings, DLQ) == []  # a transient failure is not poison
    blocker.unlink()  # storage comes back
    for _ in range(100):
        events = await topic_values(settings, ARCHIVE_SEGMENTS)
        if events:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 30)
    [event] = [decode(v, SegmentWritten) for v in events]
    assert event.records == 1 and event.object_key is not None
    assert await FilesystemStore(blocker).exists(event.object_key)
