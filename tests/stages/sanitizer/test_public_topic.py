"""What the sanitizer publishes on the public topic (shared/public_topic.py): a JSON message per sanitized
record keyed by its conversation, a count for records it withholds (never their content), and an end marker
per input partition on every partition; the internal page for the archiver in the same outputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec

from cognigy_archiver.synthetic_archive import input_record
from shared.kafka.loop import Output
from shared.kafka.topics import DLQ, PAGES_SANITIZED, TRANSCRIPTS_SANITIZED
from shared.messages import ExportOptions, ExportTotal, PiiRule, SanitizedPage, VerifiedPage, decode, encode
from shared.public_topic import PublicMessage
from shared.settings import KafkaSettings, PiiSettings, Secret, Settings
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.stage import Sanitizer

from .conftest import KEY
from .test_engine import pii_dialogue

PARTITIONS = 3
RAW = ("jane.doe@example.com", "202-555-0143", "4111 1111 1111 1111")


def sanitizer(engine: PiiEngine) -> Sanitizer:
    return Sanitizer(Settings(pii=PiiSettings(tokenization_key=Secret(KEY.decode())),
                              kafka=KafkaSettings(page_partitions=PARTITIONS)), engine)


def public(stage: Sanitizer, outputs: list[Output]) -> list[tuple[Output, dict[str, Any]]]:
    """The public outputs, each with its value as a consumer reads it (plain JSON) and checked against the
    contract's types."""
    found = [(o, json.loads(o.value or b"")) for o in outputs if o.topic == stage.settings.kafka.topic(
        TRANSCRIPTS_SANITIZED)]
    for out, _ in found:
        msgspec.json.decode(out.value or b"", type=PublicMessage)
    return found


def page(records: list[dict[str, Any]], **changes: Any) -> VerifiedPage:
    return VerifiedPage(export_id="exp-pub", page_index=7, records=records, sha256="0" * 64,
                        options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")]), **changes)


async def test_each_record_is_published_as_json_keyed_by_its_conversation(engine: PiiEngine) -> None:
    records = pii_dialogue()
    records[2] = {**records[2], "sessionId": "other-session"}
    records[3] = {**records[3], "inputData": "[" * 5_000 + '"jane.doe@example.com"' + "]" * 5_000}  # too deep
    records[4] = {**records[4], "sessionId": ""}
    stage = sanitizer(engine)
    outputs = await stage.process(input_record(encode(page(records, rejected_records=1)), 2, 40))

    [internal] = [o for o in outputs if o.topic == stage.settings.kafka.topic(PAGES_SANITIZED)]
    assert (internal.partition, decode(internal.value, SanitizedPage).rejected_records) == (2, 2)
    assert [o for o in outputs if o.topic == stage.settings.kafka.topic(DLQ)] != []
    published = public(stage, outputs)
    turns = [(o, v) for o, v in published if v["type"] == "transcript_record"]
    assert [v["record_index"] for _, v in turns] == [0, 1, 2, 4, 5, 6]  # the deep record is not published
    assert [v["sequence"] for _, v in turns] == [7_000_000 + i for i in (0, 1, 2, 4, 5, 6)]
    session = records[0]["sessionId"]
    assert [o.key for o, _ in turns] == [session.encode(), session.encode(), b"other-session",
                                         b"exp-pub:00000007", session.encode(), session.encode()]
    assert all(o.partition is None for o, _ in turns)  # the producer's partitioner: murmur2 of the key
    assert [v["conversation"] for _, v in turns][3] is None
    first = turns[0][1]
    assert {k: first[k] for k in ("export_id", "page_index", "key_id", "v")} == {
        "export_id": "exp-pub", "page_index": 7, "key_id": "k1", "v": 1}
    assert first["timestamp"] == records[0]["timestamp"] and first["record"]["id"] == records[0]["id"]
    assert dict(turns[0][0].headers) == {"export_id": b"exp-pub", "schema_version": b"1",
                                         "content_type": b"application/json", "message_type": b"transcript_record"}
    withheld = [(o.partition, v) for o, v in published if v["type"] == "page_withheld"]
    assert withheld == [(p, {"type": "page_withheld", "export_id": "exp-pub", "page_index": 7, "dead": False,
                             "withheld_records": 2, "v": 1}) for p in range(PARTITIONS)]
    text = b"".join(o.value or b"" for o, _ in published).decode()
    assert [value for value in RAW if value in text] == []


async def test_a_dead_page_is_withheld_whole_and_publishes_no_record(engine: PiiEngine) -> None:
    stage = sanitizer(engine)
    # A pattern that backtracks catastrophically: the export's rules cannot be applied, the page goes dead.
    rules = [PiiRule(entity_type="ALL"), PiiRule(entity_type="TICKET_ID", pattern=r"(a|a)+b", action="redact")]
    dying = msgspec.structs.replace(page(pii_dialogue()), options=ExportOptions(pii_rules=rules))
    published = public(stage, await stage.process(input_record(encode(dying), 0, 3)))
    assert [(o.partition, v["type"], v["dead"]) for o, v in published] == [
        (p, "page_withheld", True) for p in range(PARTITIONS)]


async def test_an_export_total_ends_the_input_partition_on_every_public_partition(engine: PiiEngine) -> None:
    stage = sanitizer(engine)
    started = datetime(2026, 3, 1, tzinfo=UTC)
    total = ExportTotal(export_id="exp-pub", total_pages=9, total_records=400, started_at=started)
    outputs = await stage.process(input_record(encode(total), 1, 90))
    [internal] = [o for o in outputs if o.topic == stage.settings.kafka.topic(PAGES_SANITIZED)]
    assert internal.value == encode(total) and internal.partition == 1
    ends = [(o.partition, o.key, v) for o, v in public(stage, outputs)]
    assert ends == [(p, b"exp-pub", {"type": "export_end", "export_id": "exp-pub", "source_partition": 1,
                                     "source_partitions": PARTITIONS, "total_pages": 9, "total_records": 400,
                                     "started_at": "2026-03-01T00:00:00Z", "v": 1}) for p in range(PARTITIONS)]
