"""The local broker started again on its work directory (after `kafka stop`, or a reboot) keeps its data."""

from __future__ import annotations

from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cognigy_archiver.localkafka import LocalKafka


async def _topics(bootstrap: str, create: str | None = None) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if create:
            await admin.create_topics([NewTopic(create, 1, 1)])
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_a_broker_started_again_on_its_directory_keeps_its_topics(tmp_path: Path) -> None:
    # Each start used to format the storage with a new cluster id, which the storage tool refuses on a
    # directory formatted before: the second start failed with a Java stack trace.
    broker = LocalKafka(tmp_path)
    broker.start()
    try:
        assert "kept" in await _topics(broker.bootstrap, create="kept")
    finally:
        broker.stop()
    again = LocalKafka(tmp_path)
    again.start()
    try:
        assert "kept" in await _topics(again.bootstrap)
    finally:
        again.stop()
