"""A replay that reaches back past an export completed since writes none of its objects again: an erasure
that replaced a segment or a file is never undone by the archiver, in JSONL and in Parquet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest

from cognigy_archiver.synthetic_archive import archive_export, input_record
from shared.archive.parquet_records import decode_parquet
from shared.archive.segments import meta_key, read_metas
from shared.archive.storage import FilesystemStore
from shared.kafka.loop import Output
from shared.kafka.topics import DLQ
from shared.messages import (
    DeadLetter,
    ExportOptions,
    ExportTotal,
    OutputFormat,
    SanitizedPage,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
)
from shared.settings import Settings
from stages.archiver.stage import Archiver
from tests.archive_fixtures import conversation_records


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
async def test_a_replayed_page_of_a_complete_export_does_not_bring_back_an_erased_object(tmp_path: Path,
                                                                                        fmt: str) -> None:
    store = FilesystemStore(tmp_path)
    records = conversation_records(40)
    pages = [records[i:i + 10] for i in range(0, 40, 10)]
    manifest = await archive_export(store, "exp-done", pages, fmt=cast(OutputFormat, fmt))
    erased = manifest.segments[0].key  # as `subject erase` leaves it: rewritten elsewhere, the original gone
    await store.delete([erased, meta_key(erased)])

    archiver = Archiver(Settings(), store)  # a restarted archiver, reading the same offsets again
    options = ExportOptions(output_format=cast(OutputFormat, fmt))
    for index, page in enumerate(pages):
        sanitized = SanitizedPage(export_id="exp-done", page_index=index, records=page, redactions=[], key_id="k1",
                                  options=options)
        await archiver.process(input_record(encode(sanitized), index % 2, 100 + index))
    total = ExportTotal(export_id="exp-done", total_pages=4, total_records=40,
                        started_at=datetime(2026, 1, 1, tzinfo=UTC))
    for partition in (0, 1):
        outputs = await archiver.process(input_record(encode(total), partition, 104 + partition))
        assert outputs  # the events still go out (the notifier counts each page once)
    assert not await store.exists(erased) and not await store.exists(meta_key(erased))


async def test_a_page_that_cannot_be_stored_as_parquet_is_dead_lettered_and_the_rest_is_written(
        tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    archiver = Archiver(Settings(), store)
    options = ExportOptions(output_format="parquet")
    records = conversation_records(30)
    pages = [records[i:i + 10] for i in range(0, 30, 10)]
    pages[1] = [*pages[1][:5], {**pages[1][5], "rating": float("nan")}, *pages[1][6:]]  # no exact Parquet form
    outputs: list[Output] = []
    for index, page in enumerate(pages):
        sanitized = SanitizedPage(export_id="exp-nan", page_index=index, records=page, redactions=[], key_id="k1",
                                  options=options)
        outputs += await archiver.process(input_record(encode(sanitized), 0, 10 + index))
    total = ExportTotal(export_id="exp-nan", total_pages=3, total_records=30,
                        started_at=datetime(2026, 1, 1, tzinfo=UTC))
    outputs += await archiver.process(input_record(encode(total), 0, 13))
    letters = [decode(o.value, DeadLetter) for o in outputs if o.topic == Settings().kafka.topic(DLQ)]
    assert [(x.source_offset, x.export_id, x.error_type) for x in letters] == [(11, "exp-nan", "UnarchivableRecord")]
    events = [decode(o.value, SegmentMessage) for o in outputs if o.topic == archiver.out_topic]
    written = {e.page_index: e for e in events if isinstance(e, SegmentWritten)}
    assert written[1].dead and not written[0].dead and not written[2].dead
    stored = [r for meta in await read_metas(store, "exp-nan") for r in decode_parquet(await store.get(meta.key))]
    assert sorted(r["id"] for r in stored) == sorted(r["id"] for r in pages[0] + pages[2])
