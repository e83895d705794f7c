"""Pages over the message limit through the real pipeline (simulator, five stage processes, broker), and what
a refused export request's dead letter says."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from cognigy_archiver.local_pipeline import start_pipeline
from shared.export_requests import publish_request
from shared.kafka.clients import client_kwargs
from shared.kafka.tables import read_topic, topic_values
from shared.kafka.topics import DLQ, EXPORTS, PAGES_RAW
from shared.messages import DeadLetter, ExportOptions, ExportRequest, TimeWindow, decode
from shared.settings import Settings
from stages.fetcher.stage import Fetcher
from tests.stages.fetcher.simulated import export_request, running_sim, sim_config
from tests.stages.fetcher.test_stage import published_pages, run_fetcher, stage_settings, wait_for_status
from tests.test_end_to_end import archived_records

pytestmark = pytest.mark.timeout(300)
MIB = 1024 * 1024


async def test_a_page_over_the_limit_is_dead_lettered_and_the_export_completes_as_partial(
        settings: Settings, tmp_path: Path) -> None:
    # About 2,300 records of about 940 bytes in pages of 1,600: page 0 is 1.5 MB (over the 1 MiB limit, and
    # over the broker's default that topics had), page 1 0.7 MB.
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "300", "--page-size", "1600",
                                    extra_env={"CA_KAFKA_MAX_MESSAGE_BYTES": str(MIB)})
    try:
        request = await pipeline.submit()
        status = await wait_for_status(pipeline.settings, request.export_id, {"fetched", "failed"}, 90)
        assert (status.state, status.total_pages) == ("fetched", 2)
        # Every page the export says it fetched is on pages.raw: the one over the limit without its body.
        pages = await published_pages(pipeline.settings, request.export_id)
        assert [(p.page_index, len(p.body) > 0) for p in pages] == [(0, False), (1, True)]
        assert "over the 1,048,576-byte limit" in pages[0].refused and pages[0].source_sha256 in pages[0].refused

        data = (await pipeline.wait_for_webhook())["data"]
        assert data["partial"] is True and data["dead_pages"] == [0]
        [letter] = [decode(v, DeadLetter) for v in await topic_values(pipeline.settings, DLQ)]
        assert (letter.stage, letter.error_type, letter.export_id) == ("verifier", "MessageTooLarge", request.export_id)
        assert letter.reason == pages[0].refused
        archived = await archived_records(pipeline, request.export_id)
        assert len(archived) == data["records"] == status.records - 1600
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert {n: c for n, c in codes.items() if c != 0} == {}, pipeline.tail_logs()


@pytest.mark.parametrize("pages_raw_limit", [None, "1048588"])
async def test_a_page_over_the_brokers_default_1_mb_is_never_lost(topics: Settings,
                                                                  pages_raw_limit: str | None) -> None:
    """None: pages.raw as `topics create` makes it, so the page travels whole. "1048588": pages.raw left at the
    broker's default (made before the limit existed), which refuses the page: it goes on refused instead."""
    if pages_raw_limit is not None:
        admin = AIOKafkaAdminClient(**client_kwargs(topics))
        await admin.start()
        try:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topics.kafka.topic(PAGES_RAW), {
                "cleanup.policy": "delete", "max.message.bytes": pages_raw_limit})])
        finally:
            await admin.close()
    async with running_sim(sim_config()) as sim:
        # One record carries 1.4 MB of random hex: its page is 2.9 MB, still 1.5 MB compressed.
        sim.state.dataset.records[0]["inputData"] = {"blob": os.urandom(1_400_000).hex()}
        settings = stage_settings(topics, sim)
        request = export_request(export_id="exp-big")
        await publish_request(settings, request)
        status = await run_fetcher(settings, request.export_id)
    assert status.state == "fetched"
    pages = await published_pages(settings, request.export_id)
    # Every page the export says it fetched is there (it used to read "fetched" with the big page, and what
    # followed it on its partition, missing).
    assert [p.page_index for p in pages] == list(range(status.total_pages or 0))
    if pages_raw_limit is None:
        big = max(pages, key=lambda p: len(p.body))
        assert len(big.body) > 2_800_000 and hashlib.sha256(big.body).hexdigest() == big.source_sha256
    else:
        [refused] = [p for p in pages if p.refused]
        assert refused.body == b"" and "the topic refused one of 2,8" in refused.refused
        assert all(p.body for p in pages if p is not refused)
    assert not any(p.refused for p in pages if pages_raw_limit is None)


async def test_a_refused_export_request_is_dead_lettered_with_each_problem(topics: Settings) -> None:
    backwards = TimeWindow(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    request = ExportRequest(export_id="bad-request", window=backwards, options=ExportOptions(max_storage_mb=-1))
    await publish_request(topics, request)
    fetcher = Fetcher(topics)
    await fetcher.sink.start()
    try:
        async for record in read_topic(topics, topics.kafka.topic(EXPORTS)):
            await fetcher.loop.take(record, asyncio.Event())
    finally:
        await fetcher.sink.producer.stop()
        await fetcher.api.close()
    [letter] = [decode(v, DeadLetter) for v in await topic_values(topics, DLQ)]
    assert (letter.error_type, letter.reason, letter.export_id) == ("ValidationFailed", "invalid export request", None)
    problems = {(p.field, p.problem) for p in letter.problems}
    assert {("window", "start must be before end"), ("pii_rules", "at least one PII rule is required"),
            ("max_storage_mb", "must be a positive number of megabytes")} <= problems, problems
