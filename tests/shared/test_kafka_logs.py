"""A stage's first start against a fresh cluster logs no error: the group coordinator does not exist until
the broker has made its offsets topic, and aiokafka's ERROR line for that retried lookup is information."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cognigy_archiver.localkafka import LocalKafka, free_port
from cognigy_archiver.processes import ProcessGroup, child_env
from shared.kafka.topics import create_topics
from shared.settings import load_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path / "kafka", port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_first_start_on_a_fresh_cluster_logs_no_error(fresh_broker: LocalKafka, tmp_path: Path) -> None:
    env = child_env({"CA_KAFKA_BOOTSTRAP_SERVERS": fresh_broker.bootstrap, "CA_TOPIC_PREFIX": "fresh.",
                     "CA_INSTANCE_ID": "fresh"})
    await create_topics(load_settings(env))
    procs = ProcessGroup(env, tmp_path / "logs")
    procs.start_stage("verifier")
    log = tmp_path / "logs" / "verifier.log"
    try:
        for _ in range(300):
            if "partitions assigned" in log.read_text():
                break
            await asyncio.sleep(0.1)
    finally:
        assert procs.stop("verifier") == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("partitions assigned" in line["msg"] for line in lines), log.read_text()[-2000:]
    lookups = [line for line in lines if line["msg"].startswith("Group Coordinator Request failed")]
    assert lookups, "the broker had its coordinator at once: nothing was tested"
    assert {line["level"] for line in lookups} == {"info"}
    assert [line for line in lines if line["level"] == "error"] == []
