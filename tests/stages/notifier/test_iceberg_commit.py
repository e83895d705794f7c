"""With an Iceberg catalog configured, the notifier commits each export to the table when it completes, before
the webhook goes out: the five stages as processes on the real broker, the SQL catalog on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognigy_archiver.local_pipeline import start_pipeline
from shared.archive.iceberg_config import configured_table
from shared.archive.iceberg_table import file_location
from shared.archive.manifest import read_manifest
from shared.archive.storage import FilesystemStore
from shared.settings import Settings

pytest.importorskip("pyiceberg")
pytestmark = pytest.mark.timeout(240)


async def test_a_completed_export_is_in_the_table_when_the_webhook_arrives(settings: Settings,
                                                                           tmp_path: Path) -> None:
    iceberg = {"CA_ICEBERG_CATALOG": "sql", "CA_ICEBERG_WAREHOUSE": str(tmp_path / "warehouse")}
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "60", extra_env=iceberg)
    try:
        request = await pipeline.submit()
        event = await pipeline.wait_for_webhook()
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert set(codes.values()) == {0}, pipeline.tail_logs()
    store = FilesystemStore(pipeline.archive)
    manifest = await read_manifest(store, request.export_id)
    table = await configured_table(pipeline.settings, store)
    assert table is not None
    files = sorted(table.table.inspect.files().column("file_path").to_pylist())
    assert files == sorted(file_location(store, s.key) for s in manifest.segments)
    assert table.table.scan().to_arrow().num_rows == event["data"]["records"] == manifest.records
