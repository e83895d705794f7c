"""Observability on the real pipeline: one trace per page across five processes (exported over OTLP to a
real receiver), Prometheus metrics and health endpoints of every stage, and no PII or secret in any log
line, span attribute or metric."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from cognigy_archiver.local_pipeline import start_pipeline
from cognigy_archiver.localkafka import free_port
from shared.kafka.tables import read_topic
from shared.kafka.topics import TRANSCRIPTS_SANITIZED
from shared.settings import Settings
from shared.telemetry.health import HealthState
from tests.metric_names import exported_metric_names
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.timeout(300)
LOOP_STAGES = ("verifier", "sanitizer", "archiver", "notifier")


def test_health_state_transitions() -> None:
    state = HealthState()
    assert state.healthy()[0] and not state.ready()[0]  # starting: alive, not ready
    state.polled(assigned=0)
    assert state.healthy()[0] and state.ready() == (False, "no partitions assigned")
    state.polled(assigned=2)
    assert state.ready() == (True, "2 partitions assigned")
    state.last_poll -= 120  # the loop stopped going round
    assert state.healthy()[0] is False and state.ready()[0] is False
    state.polled(assigned=2)
    state.draining = True
    assert state.ready() == (False, "draining") and state.healthy()[0]


def metric_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_one_trace_per_page_metrics_health_and_no_leaks(settings: Settings, tmp_path: Path) -> None:
    receiver = OtlpReceiver()
    otlp = await receiver.start()
    ports = {stage: free_port() for stage in ("fetcher", *LOOP_STAGES)}
    pipeline = await start_pipeline(
        settings, tmp_path, "--conversations", "40",
        extra_env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
                   "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_BSP_SCHEDULE_DELAY": "200"},
        stage_env={stage: {"CA_HEALTH_PORT": str(port)} for stage, port in ports.items()})
    try:
        request = await pipeline.submit()
        event = await pipeline.wait_for_webhook()
        async with httpx.AsyncClient() as http:
            for stage, port in ports.items():
                for path in ("/healthz", "/readyz"):
                    response = await http.get(f"http://127.0.0.1:{port}{path}")
                    assert response.status_code == 200, (stage, path, response.text)
            scraped = {stage: (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                       for stage, port in ports.items()}
        planted = {p["value"] for p in await pipeline.simulator_lines("/_sim/ground-truth")}
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert set(codes.values()) == {0}
    await asyncio.sleep(0.5)
    await receiver.stop()

    pages = event["data"]["pages"]
    # Metrics: every page counted once per stage, PII counted by type, nothing dead-lettered.
    for stage in ("fetcher", "verifier", "sanitizer", "archiver"):
        assert metric_value(scraped[stage], "cognigy_archiver_pages_processed_total", stage=stage) == pages
    assert metric_value(scraped["fetcher"], "cognigy_archiver_token_refreshes_total") >= 1
    assert metric_value(scraped["notifier"], "cognigy_archiver_webhook_attempts_total", outcome="success") == 1
    assert metric_value(scraped["sanitizer"], "cognigy_archiver_records_processed_total") == event["data"]["records"]
    assert metric_value(scraped["sanitizer"], "cognigy_archiver_pii_entities_total", entity_type="EMAIL_ADDRESS") > 0
    assert all(metric_value(text, "cognigy_archiver_dlq_messages_total") == 0 for text in scraped.values())
    assert metric_value(scraped["verifier"], "cognigy_archiver_processing_seconds_count") >= pages
    assert 'cognigy_archiver_consumer_lag{' in scraped["archiver"]

    # Traces: for every page, one trace from the fetcher's request to the archive object.
    by_trace: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for span in receiver.spans:
        by_trace[span.trace_id].append(span)
    fetches = [s for s in receiver.spans if s.name == "fetch page"]
    assert len(fetches) == pages
    prefix = pipeline.settings.kafka.topic_prefix
    for fetch in fetches:
        spans = {s.name: s for s in by_trace[fetch.trace_id]}
        chain = ["fetch page", f"process {prefix}pages.raw", f"process {prefix}pages.verified",
                 f"process {prefix}pages.sanitized", f"process {prefix}archive.segments"]
        assert set(chain) <= set(spans), sorted(spans)
        for parent, child in itertools.pairwise(chain):
            assert spans[child].parent_span_id == spans[parent].span_id, (parent, child)
        assert spans["checksum"].parent_span_id == spans[chain[1]].span_id
        assert spans["pii redaction"].parent_span_id == spans[chain[2]].span_id
        assert spans["storage write"].parent_span_id == spans[chain[3]].span_id
        assert {s.service for s in spans.values()} == {f"cognigy-archiver-{n}" for n in
                                                        ("fetcher", *LOOP_STAGES)}
        verify = spans[chain[1]]
        assert verify.attributes["messaging.system"] == "kafka"
        assert verify.attributes["messaging.destination.name"] == f"{prefix}pages.raw"
        assert verify.attributes["messaging.consumer.group.name"] == f"{prefix}verifier"
        assert isinstance(verify.attributes["messaging.kafka.offset"], int)
        assert verify.attributes["messaging.destination.partition.id"].isdigit()
        assert fetch.attributes["cognigy.export_id"] == request.export_id

    # The public topic's records continue their page's trace: their traceparent names the sanitizer's span.
    sanitizing = {(s.trace_id, s.span_id) for s in receiver.spans if s.name == f"process {prefix}pages.verified"}
    public = [r async for r in read_topic(pipeline.settings, pipeline.settings.kafka.topic(TRANSCRIPTS_SANITIZED))]
    records = [r for r in public if dict(r.headers)["message_type"] == b"transcript_record"]
    assert len(records) == event["data"]["records"]
    for record in records:
        _, trace_id, span_id, _ = dict(record.headers)["traceparent"].decode().split("-")
        assert (trace_id, span_id) in sanitizing

    # Nothing personal or secret in any log line, span attribute or metric.
    secrets = {pipeline.settings.pii.tokenization_key.reveal(), pipeline.procs.env["CA_WEBHOOK_SECRET"],
               pipeline.procs.env["CA_WEBHOOK_SECRET"].removeprefix("whsec_"), "demo-secret"}
    logs = "\n".join(p.read_text() for p in (tmp_path / "logs").glob("*.log") if p.name != "simulator.log")
    attributes = json.dumps([s.attributes for s in receiver.spans])
    metrics_text = "\n".join(scraped.values())
    for where, text in (("logs", logs), ("spans", attributes), ("metrics", metrics_text)):
        assert not [v for v in planted if v in text], f"planted PII in {where}"
        assert not [v for v in secrets if v in text], f"a secret in {where}"


def test_the_grafana_dashboard_uses_only_metrics_we_export() -> None:
    exported = exported_metric_names()
    dashboard = json.loads((Path(__file__).parents[1] / "docs" / "grafana" / "cognigy-archiver.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"cognigy_archiver_\w+", target["expr"])}
    assert used and used <= exported, used - exported
