"""The archiver on the real broker: a replay of the same offsets (after a SIGKILL, or a batch retried after
a storage failure, on the filesystem and on S3) rebuilds byte-identical objects under the same keys, adds
no other object, and publishes exactly one segment event per page."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.archive.segments import dictionary_id, dictionary_key, encode_segment, load_dictionary, meta_key
from shared.archive.storage import FilesystemStore, ObjectStore, StorageError
from shared.kafka.loop import StageLoop
from shared.kafka.topics import PAGES_SANITIZED
from shared.messages import SanitizedPage, SegmentWritten
from shared.settings import Settings
from stages.archiver.stage import Archiver
from tests.archive_fixtures import produce_pages, sanitized_pages, segment_events
from tests.s3_server import FaultyProxy, connect

DICTIONARY = load_dictionary("builtin")


def expected_objects(pages: list[SanitizedPage], events: list[SegmentWritten]) -> dict[str, bytes]:
    """What a clean, single run writes for these pages: recomputed here, byte for byte."""
    by_index = {p.page_index: p for p in pages}
    return {e.object_key: encode_segment(by_index[e.page_index].records, "jsonl", DICTIONARY)
            for e in events if e.object_key}


async def wait_for_events(settings: Settings, count: int, timeout: float) -> list[SegmentWritten]:
    deadline = time.monotonic() + timeout
    while len(events := await segment_events(settings)) < count:
        assert time.monotonic() < deadline, f"{len(events)} of {count} segment events"
        await asyncio.sleep(0.2)
    return events


def assert_once_per_page(events: list[SegmentWritten], pages: int) -> None:
    counts = Counter(e.page_index for e in events)
    assert len(counts) == pages and set(counts.values()) == {1}, "a page lost or archived twice"


@pytest.mark.timeout(180)
async def test_a_replay_after_sigkill_rebuilds_identical_objects_and_no_others(topics: Settings,
                                                                               tmp_path: Path) -> None:
    settings = topics
    pages = sanitized_pages("exp-kill", 600, 10)
    await produce_pages(settings, pages)
    archive = tmp_path / "archive"
    procs = ProcessGroup(child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
                                    "CA_TOPIC_PREFIX": settings.kafka.topic_prefix, "CA_INSTANCE_ID": "kill",
                                    "CA_ARCHIVE_DIR": str(archive)}), tmp_path / "logs")
    procs.start_stage("archiver")
    segments = archive / "exp-kill" / "segments"
    for _ in range(1200):
        if len(list(segments.glob("*.zst"))) >= 120:
            break
        await asyncio.sleep(0.025)
    procs.kill("archiver")
    at_kill = {p: (p.read_bytes(), p.stat().st_ino) for p in (archive / "exp-kill").rglob("*") if p.is_file()}
    committed = {e.object_key for e in await segment_events(settings)}
    uncommitted = [p for p in at_kill if p.suffix == ".zst" and str(p.relative_to(archive)) not in committed]
    assert len(at_kill) >= 120 and uncommitted, "the kill came too late, or between two batches"

    procs.start_stage("archiver")
    events = await wait_for_events(settings, len(pages), 120)
    assert procs.stop("archiver") == 0
    assert_once_per_page(events, len(pages))
    # Objects written before the kill but not committed were written again by the replay: same bytes.
    assert all(p.stat().st_ino != at_kill[p][1] for p in uncommitted)
    assert all(p.read_bytes() == data for p, (data, _) in at_kill.items())
    expected = expected_objects(pages, events)
    export = archive / "exp-kill"  # (a write the kill interrupted left a file in .incoming/, not here)
    stored = {str(p.relative_to(archive)): p.read_bytes() for p in export.rglob("*") if p.is_file()}
    assert {k: v for k, v in stored.items() if k.endswith(".zst")} == expected
    assert set(stored) == {*expected, *map(meta_key, expected), dictionary_key("exp-kill", dictionary_id(DICTIONARY))}


class Recording:
    """Any store, remembering every PUT that succeeded; with `fail_once`, the first PUT of a key containing
    it fails (the storage gone for a moment)."""

    def __init__(self, store: ObjectStore, fail_once: str | None) -> None:
        self.store = store
        self.fail_once = fail_once
        self.puts: list[tuple[str, bytes]] = []

    async def put(self, key: str, data: bytes) -> None:
        if self.fail_once and self.fail_once in key:
            self.fail_once = None
            raise StorageError(f"cannot write {key}: injected")
        await self.store.put(key, data)
        self.puts.append((key, data))

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.fixture(params=["filesystem", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path, s3_proxy: FaultyProxy,
                  s3_bucket: str) -> AsyncIterator[tuple[str, ObjectStore]]:
    if request.param == "filesystem":
        yield "filesystem", FilesystemStore(tmp_path / "archive")
        return
    store = await connect(s3_proxy.url, s3_bucket, max_attempts=2)
    try:
        yield "s3", store
    finally:
        await store.close()


async def test_a_batch_retried_after_a_storage_failure_rewrites_the_same_bytes(
        topics: Settings, backend: tuple[str, ObjectStore], s3_proxy: FaultyProxy) -> None:
    settings = topics
    kind, inner = backend
    pages = sanitized_pages("exp-retry", 40, 10)
    await produce_pages(settings, pages)
    # The 40 pages come in one batch; the failure hits the segment at offset 5 of a partition, after the
    # segments before it in the batch were written. On S3 the server fails, halfway through both of
    # botocore's attempts at the upload.
    sixth = "00000000000000000005.jsonl.zst"
    if kind == "s3":
        s3_proxy.fail_puts, s3_proxy.match = 2, sixth
    store = Recording(inner, None if kind == "s3" else sixth)
    loop = StageLoop(settings, "archiver", PAGES_SANITIZED, Archiver(settings, store),  # type: ignore[arg-type]
                     retry_pause_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    events = await wait_for_events(settings, len(pages), 60)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert_once_per_page(events, len(pages))
    expected = expected_objects(pages, events)
    assert {k: await inner.get(k) for k in expected} == expected
    assert sorted(k for k in await inner.keys("exp-retry") if k.endswith(".zst")) == sorted(expected)
    written = Counter(k for k, _ in store.puts if k.endswith(".zst"))
    assert max(written.values()) == 2, "no object was written twice: the batch was not replayed"
    assert all(data == expected[k] for k, data in store.puts if k in expected)
    if kind == "s3":
        assert s3_proxy.failed == 2

