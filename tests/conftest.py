"""Fixtures on real parts: a real Kafka broker (local, from Maven jars, or KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cognigy_archiver.localkafka import LocalKafka
from shared.kafka.topics import create_topics
from shared.settings import Settings, load_settings
from simulator.config import DEMO_CREDENTIALS


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A fresh prefix per test: tests share the broker, never topics or consumer groups."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Settings:
    return load_settings({
        "CA_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CA_TOPIC_PREFIX": topic_prefix,
        "CA_INSTANCE_ID": "test",
        "CA_ARCHIVE_DIR": str(tmp_path / "archive"),
        "CA_ARCHIVE_KEY_STORE": str(tmp_path / "keys"),
        "CA_AUDIT_LOG_PATH": str(tmp_path / "audit" / "audit.jsonl"),
        "CA_TOKENIZATION_KEY": "test-tokenization-key-0123456789abcdef",
        "CA_SHUTDOWN_GRACE_SECONDS": "10",
        **DEMO_CREDENTIALS,
    })


@pytest.fixture
async def topics(settings: Settings) -> Settings:
    await create_topics(settings)
    return settings
