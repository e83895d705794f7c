"""The verifier on the real broker drops the records a page lists as duplicates (fetched by an earlier window of
the schedule), only once the body's checksum is proven, and leaves every other page as it was."""

from __future__ import annotations

import hashlib

import msgspec
from prometheus_client import REGISTRY

from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, PAGES_VERIFIED
from shared.messages import DeadLetter, decode
from shared.settings import Settings
from tests.stages.verifier.test_hostile_pages import produce, raw, record, records_body, run_verifier_until, verified


def dropped() -> float:
    value = REGISTRY.get_sample_value("cognigy_archiver_duplicate_records_dropped_total", {"stage": "verifier"})
    return value or 0.0


async def test_listed_duplicates_are_dropped_after_the_checksum_and_other_pages_keep_theirs(topics: Settings) -> None:
    settings = topics
    body = records_body([*(record(i) for i in range(5)), {"id": "r5"}])  # r5 has no sessionId: judged before
    listed = msgspec.structs.replace(raw("e", 0, body), duplicate_ids=["r1", "r3", "r5", "not-in-the-page"])
    same_ids_unlisted = raw("e", 1, records_body([record(1), record(3)]))
    forged = msgspec.structs.replace(raw("e", 2, records_body([record(0)])), duplicate_ids=["r0"],
                                     source_sha256=hashlib.sha256(b"another body").hexdigest())
    before = dropped()
    await produce(settings, [listed, same_ids_unlisted, forged])

    async def all_three() -> bool:
        return len(await topic_values(settings, PAGES_VERIFIED)) == 3
    await run_verifier_until(settings, all_three, 30)

    pages = await verified(settings)
    assert [([r["id"] for r in p.records], p.rejected_records, p.dead) for p in pages] == [
        (["r0", "r2", "r4"], 0, False), (["r1", "r3"], 0, False), ([], 0, True)]
    assert pages[0].sha256 == listed.source_sha256
    letters = [decode(v, DeadLetter) for v in await topic_values(settings, DLQ)]
    assert [(d.error_type, d.source_offset) for d in letters] == [("ChecksumMismatch", 2)]  # r5 is not judged again
    assert dropped() - before == 3
