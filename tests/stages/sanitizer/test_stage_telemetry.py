"""No raw PII value in what the sanitizer stage emits besides sanitized records: logs, span attributes,
metric labels and the redaction summaries."""

from __future__ import annotations

import json
import logging

import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from shared.messages import ExportOptions, PiiRule, VerifiedPage
from shared.settings import PiiSettings, Secret, Settings
from stages.sanitizer import stage as stage_module
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.stage import Sanitizer

from .conftest import KEY
from .test_engine import RAW, pii_dialogue


def test_logs_spans_metrics_and_summaries_hold_no_value(engine: PiiEngine, caplog: pytest.LogCaptureFixture,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(stage_module, "tracer", lambda: provider.get_tracer("test"))
    sanitizer = Sanitizer(Settings(pii=PiiSettings(tokenization_key=Secret(KEY.decode()))), engine)
    rules = [PiiRule(entity_type="ALL", action="mask", keep_last=2), PiiRule(entity_type="EMAIL_ADDRESS")]
    page = VerifiedPage(export_id="exp-1", page_index=0, records=pii_dialogue(), sha256="0" * 64,
                        options=ExportOptions(pii_rules=rules))
    with caplog.at_level(logging.DEBUG):
        sanitized = sanitizer.sanitize(page)

    [span] = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes["pii.email_address.tokenize"] == 4
    assert len(sanitized.record_redactions) == len(sanitized.records)
    emitted = json.dumps({
        "logs": [r.getMessage() for r in caplog.records],
        "span": dict(span.attributes),
        "metrics": [s.labels for m in REGISTRY.collect() for s in m.samples],
        "summaries": msgspec.to_builtins([sanitized.redactions, sanitized.record_redactions]),
        "records": sanitized.records,
    })
    for raw in RAW:
        assert raw not in emitted
