"""A record nested deeper than MAX_DEPTH reaching the sanitizer (JSON text in `inputData`, which only the
sanitizer parses, or a page that did not come through the verifier): that record goes to the DLQ with the
reason and the export id, the rest of its page is sanitized, and the page counts it as rejected. Before, a
RecursionError sent the whole page to the DLQ without its export id, and the export never completed."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from cognigy_archiver.synthetic_archive import input_record
from shared.kafka.topics import DLQ, PAGES_SANITIZED
from shared.messages import DeadLetter, ExportOptions, PiiRule, SanitizedPage, VerifiedPage, decode, encode
from shared.nesting import MAX_DEPTH
from shared.settings import PiiSettings, Secret, Settings
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.stage import Sanitizer

from .conftest import KEY
from .test_engine import pii_dialogue

TOO_DEEP = f"nests deeper than {MAX_DEPTH} levels of objects and arrays"


def nested(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


async def test_a_deep_record_is_refused_alone_and_the_page_goes_on(engine: PiiEngine) -> None:
    records = pii_dialogue()
    records[1]["inputData"] = "[" * 5_000 + '"jane.doe@example.com"' + "]" * 5_000  # JSON text
    records[2]["inputData"] = nested(600, "jane.doe@example.com")  # as a forged page can carry it
    records[4]["inputData"] = json.dumps(nested(MAX_DEPTH - 1, "jane.doe@example.com"))  # at the limit: kept
    context = [{"id": "c0", "sessionId": records[0]["sessionId"], "inputData": nested(600, 1)}]
    page = VerifiedPage(export_id="exp-deep", page_index=3, records=records, sha256="0" * 64, rejected_records=1,
                        options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")]), context=context)
    settings = Settings(pii=PiiSettings(tokenization_key=Secret(KEY.decode())))
    outputs = await Sanitizer(settings, engine).process(input_record(encode(page), 0, 11))

    letters = [decode(o.value, DeadLetter) for o in outputs if o.topic == settings.kafka.topic(DLQ)]
    assert [(letter.reason, letter.export_id, letter.record_index) for letter in letters] == [
        (f"record 1 of verified page 3: {TOO_DEEP}", "exp-deep", 1),
        (f"record 2 of verified page 3: {TOO_DEEP}", "exp-deep", 2)]
    [out] = [o for o in outputs if o.topic == settings.kafka.topic(PAGES_SANITIZED)]
    sanitized = decode(out.value, SanitizedPage)
    assert not sanitized.dead and sanitized.rejected_records == 3
    assert [r["id"] for r in sanitized.records] == [r["id"] for i, r in enumerate(records) if i not in (1, 2)]
    assert "jane.doe@example.com" not in msgspec.json.encode(sanitized.records).decode()

