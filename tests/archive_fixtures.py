"""Test data for the archive's tests: conversation records, sanitized pages, publishing them as the sanitizer
does, the archiver's segment events, and the CLI as a real process (archived exports themselves:
cognigy_archiver/synthetic_archive.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from shared.kafka.clients import plain_producer
from shared.kafka.tables import topic_values
from shared.kafka.topics import ARCHIVE_SEGMENTS, PAGES_SANITIZED
from shared.messages import ExportOptions, SanitizedPage, SegmentMessage, SegmentWritten, decode, encode, page_key
from shared.settings import Settings
from simulator.dataset import generate_dataset
from simulator.server import dataset_window


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`cognigy-archiver ARGS` as a real process, with these settings on top of the environment."""
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def conversation_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    records = generate_dataset(seed, max(1, count // 4), dataset_window()[0]).records
    assert len(records) >= count
    return records[:count]


def sanitized_pages(export_id: str, pages: int, per_page: int, options: ExportOptions | None = None,
                    ) -> list[SanitizedPage]:
    records = conversation_records(pages * per_page)
    return [SanitizedPage(export_id=export_id, page_index=i, records=records[i * per_page:(i + 1) * per_page],
                          redactions=[], key_id="k1", options=options or ExportOptions()) for i in range(pages)]


async def produce_pages(settings: Settings, pages: list[SanitizedPage], topic: str = PAGES_SANITIZED) -> None:
    """Publish pages as the sanitizer does: keyed per page, so they spread over the partitions."""
    producer = plain_producer(settings)
    await producer.start()
    try:
        for page in pages:
            await producer.send(settings.kafka.topic(topic), encode(page),
                                key=page_key(page.export_id, page.page_index))
        await producer.flush()
    finally:
        await producer.stop()


async def segment_events(settings: Settings) -> list[SegmentWritten]:
    """The archiver's committed segment events so far."""
    messages = [decode(v, SegmentMessage) for v in await topic_values(settings, ARCHIVE_SEGMENTS)]
    return [m for m in messages if isinstance(m, SegmentWritten)]
