"""Totals the fetcher did not count, put straight on `archive.segments` (whose writers include more than the
fetcher), against the archiver and the notifier on the real broker: a total of 0 pages for an export that does
not exist, one of -7 pages, one that would complete a running export early, and one that disagrees with the
fetcher's finished count. Each is dead-lettered with the reason, and no export completes on it: no manifest, no
audit entry, no `archival.completed` event. The real total then completes the real export."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from shared.archive.segments import manifest_key
from shared.archive.storage import FilesystemStore
from shared.kafka.tables import topic_values
from shared.kafka.topics import ARCHIVE_SEGMENTS, DLQ, FETCH_CHECKPOINTS
from shared.messages import DeadLetter, ExportTotal, decode
from shared.settings import Settings
from stages.archiver import stage as archiver
from stages.notifier import stage as notifier
from tests.archive_fixtures import produce_pages, sanitized_pages
from tests.stages.notifier.test_notifier import (
    audit_actions,
    configured,
    fetcher_checkpoint,
    running,
    send,
    until,
)
from tests.stages.notifier.webhook_receivers import Receiver, start


async def notifier_letters(settings: Settings) -> list[DeadLetter]:
    return [d for d in (decode(v, DeadLetter) for v in await topic_values(settings, DLQ)) if d.stage == "notifier"]


async def test_a_total_the_fetcher_did_not_count_completes_nothing(topics: Settings,
                                                                  receivers: list[Receiver]) -> None:
    receiver = await start(receivers)
    settings = configured(topics, receiver, events="archival.completed")
    store = FilesystemStore(settings.archive.path)
    started = datetime(2026, 5, 1, tzinfo=UTC)

    def total(export_id: str, pages: int, records: int, at: datetime = started) -> ExportTotal:
        return ExportTotal(export_id=export_id, total_pages=pages, total_records=records, started_at=at)

    async with running(settings, archiver.run, notifier.run):
        # A running export: 3 of its 6 pages archived, the fetcher's checkpoint at page 3.
        await send(settings, FETCH_CHECKPOINTS, fetcher_checkpoint("exp-run", 3, 30, started, done=False), "exp-run")
        await produce_pages(settings, sanitized_pages("exp-run", 6, 10)[:3])
        forged = [total("ghost", 0, 0), total("negative", -7, 0), total("exp-run", 3, 30)]
        for message in forged:
            await send(settings, ARCHIVE_SEGMENTS, message, message.export_id)
        letters: list[DeadLetter] = []

        async def dead_lettered(count: int) -> None:
            for _ in range(150):
                letters[:] = await notifier_letters(settings)
                if len(letters) >= count:
                    return
                await asyncio.sleep(0.2)
            raise AssertionError(f"{len(letters)} of {count} forged totals dead-lettered")

        await dead_lettered(3)
        # The fetcher finishes the export: its checkpoint says 6 pages. A total saying otherwise is refused too.
        await produce_pages(settings, sanitized_pages("exp-run", 6, 10)[3:])
        await send(settings, FETCH_CHECKPOINTS, fetcher_checkpoint("exp-run", 6, 60, started), "exp-run")
        await send(settings, ARCHIVE_SEGMENTS, total("exp-run", 5, 50), "exp-run")
        await send(settings, ARCHIVE_SEGMENTS, total("exp-run", 6, 60, started + timedelta(days=1)), "exp-run")
        await dead_lettered(5)
        assert not await store.exists(manifest_key("exp-run"))
        await send(settings, ARCHIVE_SEGMENTS, total("exp-run", 6, 60), "exp-run")  # the fetcher's own
        await until(lambda: ("webhook delivered", "exp-run") in audit_actions(settings), 60, "the real export's event")
    reasons = {d.reason for d in letters}
    assert {r for r in reasons if "no checkpoint" in r} == {
        "export ghost: a total of 0 pages and 0 records, but the fetcher has no checkpoint of that export"}
    assert any(r.startswith("not a segment message: Expected `int` >= 0 - at `$.total_pages`") for r in reasons)
    assert "export exp-run: a total of 3 pages and 30 records, but the fetcher has not finished it (it is at page 3)" \
        in reasons
    assert ("export exp-run: a total of 5 pages and 50 records started 2026-05-01T00:00:00+00:00, but the fetcher "
            "counted 6 pages and 60 records, started 2026-05-01T00:00:00+00:00") in reasons
    assert any("started 2026-05-02" in r for r in reasons)
    dead = (settings.kafka.topic(ARCHIVE_SEGMENTS), "PoisonError")
    assert [(d.source_topic, d.error_type) for d in letters] == [dead] * 5
    # Each letter names its export, but for the total that did not decode (it has no export id to trust).
    assert sorted(d.export_id or "" for d in letters) == ["", "exp-run", "exp-run", "exp-run", "ghost"]
    for export_id in ("ghost", "negative"):
        assert not await store.exists(manifest_key(export_id))
    [event] = receiver.accepted()
    assert (event.body["data"]["export_id"], event.body["data"]["pages"], event.body["data"]["records"]) == (
        "exp-run", 6, 60)
    assert audit_actions(settings) == [("export archived", "exp-run"), ("webhook delivered", "exp-run")]
