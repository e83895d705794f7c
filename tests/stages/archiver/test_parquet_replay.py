"""Parquet files on the real broker: the archiver holds pages across batches and commits only up to the start
of a window, so a SIGKILL in the middle of a file, or a batch retried after a storage failure, ends with the
same files, byte for byte, as one clean run over the same input, and no other file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cognigy_archiver.processes import ProcessGroup, child_env
from shared.archive.storage import FilesystemStore
from shared.kafka.clients import plain_producer
from shared.kafka.loop import StageLoop
from shared.kafka.tables import read_topic, topic_values
from shared.kafka.topics import EXPORTS_PROGRESS, PAGES_SANITIZED
from shared.messages import ExportOptions, ExportTotal, PageProgress, SanitizedPage, SegmentWritten, decode, encode
from shared.settings import Settings, load_settings
from stages.archiver.stage import Archiver
from tests.archive_fixtures import produce_pages, sanitized_pages, segment_events
from tests.stages.archiver.test_archiver import Recording

PARQUET = ExportOptions(output_format="parquet")
WINDOW = {"CA_ARCHIVE_PARQUET_WINDOW_OFFSETS": "40"}


async def produce_export_totals(settings: Settings, pages: list[SanitizedPage]) -> None:
    """The export's total on every partition, as the sanitizer passes it on after the pages."""
    total = ExportTotal(export_id=pages[0].export_id, total_pages=len(pages),
                        total_records=sum(len(p.records) for p in pages), started_at=datetime(2026, 1, 1, tzinfo=UTC))
    producer = plain_producer(settings)
    await producer.start()
    try:
        topic = settings.kafka.topic(PAGES_SANITIZED)
        for partition in sorted(await producer.partitions_for(topic)):
            await producer.send(topic, encode(total), key=total.export_id.encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def clean_run(settings: Settings, root: Path) -> dict[str, bytes]:
    """The files one uninterrupted archiver writes from the same input: the input read back and processed
    in-process, in each partition's order."""
    archiver = Archiver(settings, FilesystemStore(root))
    async for record in read_topic(settings, settings.kafka.topic(PAGES_SANITIZED)):
        await archiver.process(record)
    return parquet_files(root)


def parquet_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.parquet")}


def every_page_once_at_least(events: list[SegmentWritten], pages: int) -> None:
    assert {e.page_index for e in events} == set(range(pages))
    assert all(e.object_key and e.object_key.endswith(".parquet") for e in events)


async def events_for(settings: Settings, pages: int, timeout: float) -> list[SegmentWritten]:
    """Wait until every page has its event (a replayed window may send a page's again: the notifier
    counts each page once)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = await segment_events(settings)
        if {e.page_index for e in events} == set(range(pages)):
            return events
        assert asyncio.get_running_loop().time() < deadline, f"{len(events)} events for {pages} pages"
        await asyncio.sleep(0.2)


async def archived_progress(settings: Settings) -> set[int]:
    """The pages the archiver has committed as processed (held in a chunk or written)."""
    values = await topic_values(settings, EXPORTS_PROGRESS)
    return {m.page_index for m in map(lambda v: decode(v, PageProgress), values) if m.stage == "archiver"}


@pytest.mark.timeout(180)
async def test_a_sigkill_mid_file_ends_with_the_files_of_a_clean_run(topics: Settings, tmp_path: Path) -> None:
    settings = topics
    pages = sanitized_pages("exp-pq-kill", 400, 10, PARQUET)
    await produce_pages(settings, pages)  # the totals later: the last window's chunks stay open
    archive = tmp_path / "archive"
    window = {"CA_ARCHIVE_PARQUET_WINDOW_OFFSETS": "50"}
    procs = ProcessGroup(child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
                                    "CA_TOPIC_PREFIX": settings.kafka.topic_prefix, "CA_INSTANCE_ID": "kill",
                                    "CA_ARCHIVE_DIR": str(archive), **window}), tmp_path / "logs")
    try:
        procs.start_stage("archiver")
        for _ in range(600):
            if len(await archived_progress(settings)) == len(pages):
                break
            await asyncio.sleep(0.1)
        procs.kill("archiver")  # every page processed and committed, the last window's held in memory only
        at_kill = parquet_files(archive)
        held = len(pages) - len({e.page_index for e in await segment_events(settings)})
        assert at_kill and held, "no file written before the kill, or none held"

        await produce_export_totals(settings, pages)
        procs.start_stage("archiver")
        events = await events_for(settings, len(pages), 120)
        assert procs.stop("archiver") == 0
        every_page_once_at_least(events, len(pages))
    finally:
        procs.stop_all()  # whatever failed, no archiver left running
    expected = await clean_run(load_settings({**window, "CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
                                              "CA_TOPIC_PREFIX": settings.kafka.topic_prefix}), tmp_path / "clean")
    assert parquet_files(archive) == expected  # same keys, same bytes, nothing else
    assert all(at_kill[k] == expected[k] for k in at_kill)
    assert len(expected) < len(pages) / 4, "large files, not one per page"


async def test_a_batch_retried_after_a_storage_failure_rewrites_the_same_files(topics: Settings,
                                                                              tmp_path: Path) -> None:
    settings = load_settings({**WINDOW, "CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers,
                              "CA_TOPIC_PREFIX": topics.kafka.topic_prefix})
    pages = sanitized_pages("exp-pq-retry", 240, 10, PARQUET)
    await produce_pages(settings, pages)
    await produce_export_totals(settings, pages)
    # Batches of 10 records, windows of 40 offsets: the first write of the file starting at offset 40 comes
    # in the batch that closes that window, and fails; the window's pages came in the batches before.
    store = Recording(FilesystemStore(tmp_path / "archive"), "+00000000000000000040.parquet")
    archiver = Archiver(settings, store)  # type: ignore[arg-type]
    loop = StageLoop(settings, "archiver", PAGES_SANITIZED, archiver, on_assign=archiver.assigned,
                     max_records=10, retry_pause_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    events = await events_for(settings, len(pages), 60)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert store.fail_once is None, "the failure was not injected"
    every_page_once_at_least(events, len(pages))
    assert parquet_files(tmp_path / "archive") == await clean_run(settings, tmp_path / "clean")
