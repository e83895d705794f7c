"""An export the fetcher gave up on part-way: its pause marker makes the archiver write the Parquet pages it
holds at once (they would otherwise wait, held in memory and uncommitted, for a total that may never come); a
resumed export writes the rest later, and its completion compacts both into one file per date."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cognigy_archiver.synthetic_archive import SYNTHETIC_AUDIT_KEY, input_record
from shared.archive.manifest import ManifestSeal
from shared.archive.reader import read_export_records, verify_export
from shared.archive.storage import FilesystemStore
from shared.kafka.loop import Output
from shared.messages import (
    ExportOptions,
    ExportTotal,
    FetchPaused,
    SanitizedPage,
    SegmentMessage,
    SegmentWritten,
    decode,
    encode,
)
from shared.settings import Settings
from stages.archiver.stage import Archiver
from stages.notifier.changelog import NotifierState
from stages.notifier.manifests import write_export_manifest
from stages.notifier.progress import apply
from tests.archive_fixtures import conversation_records

AT = datetime(2026, 1, 1, tzinfo=UTC)


def events(archiver: Archiver, outputs: list[Output]) -> list[SegmentWritten]:
    messages = [decode(o.value, SegmentMessage) for o in outputs if o.topic == archiver.out_topic]
    return [m for m in messages if isinstance(m, SegmentWritten)]


async def test_a_pause_writes_what_is_held_and_completion_compacts_it(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    archiver = Archiver(Settings(), store)
    records = conversation_records(60)
    pages = [SanitizedPage(export_id="exp-p", page_index=i, records=records[i * 10:(i + 1) * 10], redactions=[],
                           key_id="k1", options=ExportOptions(output_format="parquet")) for i in range(6)]
    held: list[Output] = []
    for page in pages[:4]:
        held += await archiver.process(input_record(encode(page), 0, page.page_index))
    assert not events(archiver, held) and not list(tmp_path.rglob("*.parquet"))  # held, nothing written yet

    paused = FetchPaused(export_id="exp-p", attempt="0:7")
    first = events(archiver, await archiver.process(input_record(encode(paused), 0, 4)))
    assert sorted(e.page_index for e in first) == [0, 1, 2, 3]
    assert archiver.commit_offset(next(iter(archiver.windows)), 5) == 5  # nothing held: all of it may commit

    # Resumed: the rest of the pages, then the total.
    rest: list[Output] = []
    for page in pages[4:]:
        rest += await archiver.process(input_record(encode(page), 0, 1 + page.page_index))
    total = ExportTotal(export_id="exp-p", total_pages=6, total_records=60, started_at=AT)
    rest += await archiver.process(input_record(encode(total), 0, 7))
    second = events(archiver, rest)
    assert sorted(e.page_index for e in second) == [4, 5]

    state = NotifierState(export_id="exp-p", total_pages=6, started_at=AT)
    for event in first + second:
        state = apply(state, event, AT)
    manifest, _ = await write_export_manifest(store, state, AT, ManifestSeal(SYNTHETIC_AUDIT_KEY))
    dates = {s.conversation_date for s in manifest.segments}
    assert len(manifest.segments) == len(dates)  # the two writes' files merged per date
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet")) == \
        sorted(s.key for s in manifest.segments)
    assert (await verify_export(store, "exp-p")).ok
    assert sorted(r["id"] for r in await read_export_records(store, "exp-p")) == sorted(r["id"] for r in records)
