"""The verifier on the real broker against pages no source should send: huge ones, and ones made of bad
records. It stays live, dead-letters them with bounded letters that say what was wrong, and goes on."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.kafka.clients import client_kwargs
from shared.kafka.loop import StageLoop
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, PAGES_RAW, PAGES_VERIFIED
from shared.messages import DeadLetter, ExportOptions, Problem, RawPage, VerifiedPage, decode
from shared.settings import Settings
from stages.verifier.stage import MAX_RECORD_LETTERS, Verifier
from tests.kafka_io import send_to_partition_0

MB = 1_000_000


def raw(export_id: str, index: int, body: bytes) -> RawPage:
    return RawPage(export_id=export_id, page_index=index, body=body, source_sha256=hashlib.sha256(body).hexdigest(),
                   fetched_at=datetime.now(UTC), options=ExportOptions())


def records_body(records: list[object]) -> bytes:
    return json.dumps({"items": records}).encode()


def record(i: int, text: str = "hello") -> dict[str, str]:
    return {"id": f"r{i}", "sessionId": "s", "timestamp": "2026-10-01T00:00:00Z", "inputText": text}


async def produce(settings: Settings, pages: list[RawPage]) -> list[bytes]:
    """As a writer to pages.raw other than the fetcher could: compressed, so the broker takes far more than
    its limit of plain bytes."""
    producer = AIOKafkaProducer(**client_kwargs(settings), compression_type="zstd", max_request_size=64 * MB)
    return await send_to_partition_0(producer, settings.kafka.topic(PAGES_RAW), pages)


async def run_verifier_until(settings: Settings, done: Callable[[], Awaitable[bool]], timeout: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(StageLoop(settings, "verifier", PAGES_RAW, Verifier(settings)).run(stop))
    try:
        deadline = time.monotonic() + timeout
        while not await done():
            assert not task.done(), "the verifier stopped"
            assert time.monotonic() < deadline, "the verifier never got through the pages"
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def verified(settings: Settings) -> list[VerifiedPage]:
    return sorted((decode(v, VerifiedPage) for v in await topic_values(settings, PAGES_VERIFIED)),
                  key=lambda p: p.page_index)


async def test_a_9_mb_page_and_30_mb_of_zeros_are_dead_lettered_and_the_verifier_goes_on(topics: Settings) -> None:
    settings = topics  # the default limit, 8 MiB
    valid_9_mb = records_body([record(i, "lorem ipsum " * 790) for i in range(1000)])
    assert len(valid_9_mb) > 9 * MB
    values = await produce(settings, [raw("e", 0, valid_9_mb), raw("e", 1, bytes(30 * MB)), raw("e", 2, records_body(
        [record(0)]))])

    async def all_three() -> bool:
        return len(await topic_values(settings, PAGES_VERIFIED)) == 3
    await run_verifier_until(settings, all_three, 60)

    assert [(p.page_index, p.dead, len(p.records)) for p in await verified(settings)] == [
        (0, True, 0), (1, True, 0), (2, False, 1)]
    raw_letters = await topic_values(settings, DLQ)
    assert max(len(v) for v in raw_letters) < 10_000  # letters reference their page; they do not copy it
    letters = sorted((decode(v, DeadLetter) for v in raw_letters), key=lambda d: d.source_offset)
    assert [(d.error_type, d.export_id, d.source_offset) for d in letters] == [
        ("MessageTooLarge", "e", 0), ("MalformedPage", "e", 1)]
    assert "would be 9," in letters[0].reason and "over the 8,388,608-byte limit" in letters[0].reason
    for letter, value in zip(letters, values, strict=False):
        assert letter.value is None and letter.size == len(value)
        assert letter.sha256 == hashlib.sha256(value).hexdigest()
    assert letters[1].reason.startswith("page body is not an export page: JSON is malformed")


async def test_a_page_of_thousands_of_bad_records_gives_few_small_letters_that_say_what_was_wrong(
        topics: Settings) -> None:
    settings = topics
    items: list[object] = [record(0), *([{}] * 49), {"id": 7, "sessionId": "s", "timestamp": "t"},
                           *([{}] * 2950), record(1)]
    body = records_body(items)
    assert len(body) < 13_000
    [value] = await produce(settings, [raw("e", 0, body)])

    async def page_through() -> bool:
        return len(await topic_values(settings, PAGES_VERIFIED)) == 1
    await run_verifier_until(settings, page_through, 30)

    [page] = await verified(settings)
    assert [r["id"] for r in page.records] == ["r0", "r1"] and page.rejected_records == 3000 and not page.dead
    raw_letters = await topic_values(settings, DLQ)
    assert sum(map(len, raw_letters)) < 100_000  # was 3,000 copies of the page: 37 MB
    letters = sorted((decode(v, DeadLetter) for v in raw_letters), key=lambda d: d.record_index or 10**6)
    assert len(letters) == MAX_RECORD_LETTERS + 1
    first = letters[0]
    assert (first.error_type, first.export_id, first.record_index, first.value) == ("MalformedRecord", "e", 1, b"{}")
    assert first.problems == [Problem("$", "Object missing required field `id`")]
    assert first.size == 2 and first.sha256 == hashlib.sha256(b"{}").hexdigest() and not first.truncated
    rest = letters[-1]
    assert rest.error_type == "MalformedRecords" and rest.export_id == "e" and rest.record_index is None
    assert rest.reason == "2900 more malformed records in page 0, records 101 to 3000: not dead-lettered one by one"
    assert rest.value == value  # the page is small enough to travel whole in that one letter
    assert rest.problems[0] == Problem("$", "Object missing required field `id`")
    [wrong_type] = [d for d in letters if d.record_index == 50]
    assert wrong_type.problems == [Problem("$.id", "Expected `str`, got `int`")]
    assert wrong_type.reason == "record 50 of page 0: Expected `str`, got `int` - at `$.id`"
