"""Throughput of sanitize_records over typical chat records: printed, not asserted (run with -s)."""

from __future__ import annotations

import time

from stages.sanitizer.engine import PiiEngine

from .conversation import typical_records

RECORDS = 2000


def _rate(engine: PiiEngine) -> float:
    records = typical_records(RECORDS)
    started = time.perf_counter()
    sanitized, _ = engine.sanitize_records(records, [])
    elapsed = time.perf_counter() - started
    assert len(sanitized) == RECORDS
    return RECORDS / elapsed


def test_throughput(engine: PiiEngine, ner_engine: PiiEngine) -> None:
    without = _rate(engine)
    with_ner = _rate(ner_engine)
    print(f"\nsanitize_records, {RECORDS} records: {without:,.0f} records/s without NER, "
          f"{with_ner:,.0f} records/s with NER")
