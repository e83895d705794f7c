"""A forged page whose export id would name no folder of its own (`..` resolves outside the archive, `.` to its
root) is dead-lettered where it enters, and the archiver process goes on archiving everything else. Before,
`..` made the key check raise a StorageError that the archiver retried for ever, and `.` was archived at
the archive root, out of reach of expiry and subject search."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest

from cognigy_archiver.processes import ProcessGroup, child_env
from cognigy_archiver.synthetic_archive import input_record
from shared.archive.storage import FilesystemStore
from shared.errors import PoisonError
from shared.kafka.clients import plain_producer
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, PAGES_SANITIZED
from shared.messages import DeadLetter, SanitizedPage, decode, encode
from shared.settings import Settings
from stages.archiver.stage import Archiver
from tests.archive_fixtures import sanitized_pages, segment_events


async def produce_on_one_partition(settings: Settings, values: list[bytes]) -> None:
    """In this order on partition 0: a page the archiver cannot get past blocks all behind it."""
    producer = plain_producer(settings)
    await producer.start()
    try:
        for value in values:
            await producer.send(settings.kafka.topic(PAGES_SANITIZED), value, partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def dead_letters(settings: Settings) -> list[DeadLetter]:
    return [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]


@pytest.mark.timeout(120)
async def test_forged_dot_export_ids_are_dead_lettered_and_the_archiver_goes_on(topics: Settings,
                                                                                tmp_path: Path) -> None:
    settings = topics
    good = sanitized_pages("exp-good", 3, 4)
    forged = [msgspec.structs.replace(good[0], export_id=bad) for bad in ("..", ".")]
    await produce_on_one_partition(settings, [encode(forged[0]), encode(good[0]), encode(forged[1]),
                                              *map(encode, good[1:])])
    archive = tmp_path / "archive"
    procs = ProcessGroup(child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
                                    "CA_TOPIC_PREFIX": settings.kafka.topic_prefix, "CA_INSTANCE_ID": "ids",
                                    "CA_ARCHIVE_DIR": str(archive)}), tmp_path / "logs")
    procs.start_stage("archiver")
    try:
        deadline = time.monotonic() + 60
        while len(events := await segment_events(settings)) < len(good):
            assert procs.alive("archiver"), (tmp_path / "logs" / "archiver.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"{len(events)} of {len(good)} pages archived: the archiver is stuck"
            await asyncio.sleep(0.2)
        letters = await dead_letters(settings)
    finally:
        procs.stop_all()
    assert sorted(e.page_index for e in events) == [0, 1, 2] and {e.export_id for e in events} == {"exp-good"}
    assert len(letters) == 2 and all("export_id" in letter.reason for letter in letters)
    assert [p.name for p in archive.iterdir() if not p.name.startswith(".")] == ["exp-good"]


async def test_a_key_no_store_takes_is_poison_not_a_retry(tmp_path: Path) -> None:
    """The store's own check (defence in depth, for a page built in-process): not retried for ever."""
    archiver = Archiver(Settings(), FilesystemStore(tmp_path / "archive"))
    page: SanitizedPage = msgspec.structs.replace(sanitized_pages("exp-x", 1, 2)[0], export_id="..")
    with pytest.raises(PoisonError, match="invalid object key"):
        await archiver.handle_page(input_record(b"", 0, 7), page)
