"""A page a stage cannot produce, on the real broker: dead-lettered with its export id and passed on dead (the
export completes as partial), and the pages after it still arrive."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka.clients import client_kwargs, plain_producer
from shared.kafka.loop import Output, Record, StageLoop
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, EXPORTS_PROGRESS, PAGES_RAW, PAGES_VERIFIED
from shared.messages import (
    DeadLetter,
    ExportOptions,
    PageMessage,
    PageProgress,
    RawPage,
    VerifiedPage,
    decode,
)
from shared.settings import Settings
from stages.verifier.stage import Verifier
from tests.kafka_io import send_to_partition_0
from tests.shared.test_stage_loop import raw_page, run_for


def page_with_text(export_id: str, index: int, text: str) -> RawPage:
    body = json.dumps({"items": [{"id": f"r{index}", "sessionId": "s", "timestamp": "2026-10-01T00:00:00Z",
                                  "inputText": text}]}).encode()
    return RawPage(export_id=export_id, page_index=index, body=body, source_sha256=hashlib.sha256(body).hexdigest(),
                   fetched_at=datetime.now(UTC), options=ExportOptions())


async def produce_to_partition_0(settings: Settings, pages: list[RawPage]) -> list[bytes]:
    return await send_to_partition_0(plain_producer(settings), settings.kafka.topic(PAGES_RAW), pages)


async def verified_pages(settings: Settings) -> list[tuple[int, bool, int]]:
    pages = [decode(v, VerifiedPage) for v in await topic_values(settings, PAGES_VERIFIED)]
    return sorted((p.page_index, p.dead, len(p.records)) for p in pages)


async def test_a_page_its_output_topic_refuses_goes_dead_and_the_next_page_arrives(topics: Settings) -> None:
    settings = topics
    # pages.verified takes 200 kB (a topic made by hand, or before the limit was raised); the setting says 8 MiB.
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, settings.kafka.topic(PAGES_VERIFIED),
                                                  {"cleanup.policy": "delete", "max.message.bytes": "200000"})])
    finally:
        await admin.close()
    big = page_with_text("e", 0, os.urandom(400_000).hex())  # 800 kB that zstd cannot shrink below 200 kB
    values = await produce_to_partition_0(settings, [big, raw_page("e", 1)])
    await run_for(StageLoop(settings, "verifier", PAGES_RAW, Verifier(settings), retry_pause_seconds=0.2), 8)

    assert await verified_pages(settings) == [(0, True, 0), (1, False, 1)]
    [letter] = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]
    assert (letter.error_type, letter.export_id, letter.source_offset) == ("MessageTooLarge", "e", 0)
    assert "pages.verified would be" in letter.reason
    # By reference: too big to carry, described by its size and hash.
    assert letter.value is None and letter.size == len(values[0])
    assert letter.sha256 == hashlib.sha256(values[0]).hexdigest()
    progress = [decode(v, PageProgress) for v in await topic_values(settings, EXPORTS_PROGRESS)]
    assert sorted((p.page_index, p.dead) for p in progress) == [(0, True), (1, False)]


class FailsOnPage1(Verifier):
    """A verifier with a bug that page 1 reaches (the kind of error nobody foresaw)."""

    async def handle_page(self, record: Record, page: RawPage) -> list[Output]:
        if page.page_index == 1:
            raise RuntimeError(f"bug quoting the content: {page.body!r}")
        return await super().handle_page(record, page)


async def test_an_unexpected_error_on_a_page_dead_letters_it_with_its_export_id_and_passes_it_on_dead(
        topics: Settings) -> None:
    settings = topics
    await produce_to_partition_0(settings, [raw_page("e", i) for i in range(3)])
    await run_for(StageLoop(settings, "verifier", PAGES_RAW, FailsOnPage1(settings)), 6)

    assert await verified_pages(settings) == [(0, False, 1), (1, True, 0), (2, False, 1)]
    [letter] = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]
    assert (letter.error_type, letter.export_id, letter.reason) == ("RuntimeError", "e", "unexpected RuntimeError")
    assert isinstance(decode(letter.value or b"", PageMessage), RawPage)  # small: carried whole
