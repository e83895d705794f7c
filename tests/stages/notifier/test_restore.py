"""A restarted notifier restores its changelog at once, even when the last input it took was dead-lettered."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.kafka.clients import plain_producer
from shared.kafka.tables import topic_values
from shared.kafka.topics import ARCHIVE_SEGMENTS, DLQ
from shared.messages import DeadLetter, decode
from shared.settings import Settings
from stages.notifier import stage as notifier
from tests.stages.notifier.test_notifier import configured, running, until


async def test_a_dead_lettered_last_input_does_not_hold_up_the_next_restore(
        topics: Settings, caplog: pytest.LogCaptureFixture) -> None:
    # Dead-lettered by the loop, the record left the changelog's watermark behind the committed input offset, so
    # every restart waited the full restore timeout (30 s) for it, long enough to be dropped from the group.
    settings = configured(topics)
    producer = plain_producer(settings)
    await producer.start()
    try:
        for partition in range(settings.kafka.page_partitions):
            await producer.send_and_wait(settings.kafka.topic(ARCHIVE_SEGMENTS), b"not a message of ours",
                                         key=b"poison", partition=partition)
    finally:
        await producer.stop()
    letters: list[DeadLetter] = []

    async def dead_lettered() -> None:
        letters[:] = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]

    async with running(settings, notifier.run):
        for _ in range(300):
            await dead_lettered()
            if len(letters) == settings.kafka.page_partitions:
                break
            await asyncio.sleep(0.1)
    assert {(d.stage, d.source_partition) for d in letters} == {("notifier", p)
                                                                for p in range(settings.kafka.page_partitions)}
    caplog.clear()
    with caplog.at_level(logging.INFO):
        async with running(settings, notifier.run):
            await until(lambda: "restored 0 exports" in caplog.text, 20, "the restore")
    assert "changelog behind the committed input" not in caplog.text
