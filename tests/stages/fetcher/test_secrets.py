"""No credential or token in any log line, exception message or span, whatever goes wrong."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.errors import ArchiverError
from shared.telemetry.logs import JsonFormatter, setup_logging
from simulator.config import DEMO_API_KEY
from stages.fetcher import export_run
from tests.stages.fetcher.simulated import Sim, export_request, fetch_all, running_sim, sim_config

# Tokens expire during the export, so it refreshes them; a lifetime much under a second made a refreshed token
# expire again before its first use on a loaded machine (a 401 after the refresh, which ends the export).
FAULTS = {"token_lifetime_seconds": 1.0, "throttle_every": 6, "retry_after": "none", "error_every": 9,
          "truncate_pages": [1], "flaky_checksum_pages": [2], "flaky_times": 1}
AUTH = {
    "oauth2": {},
    "api_key_header": {"COGNIGY_AUTH": "api_key", "COGNIGY_API_KEY": DEMO_API_KEY},
    "api_key_query": {"COGNIGY_AUTH": "api_key", "COGNIGY_API_KEY": DEMO_API_KEY, "COGNIGY_API_KEY_IN": "query"},
    "password": {"COGNIGY_AUTH": "password", "COGNIGY_USERNAME": "demo-user", "COGNIGY_PASSWORD": "demo-password"},
}
SECRETS = ["demo-secret", DEMO_API_KEY, "demo-password"]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.formatter_ = JsonFormatter("fetcher")

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("aiohttp"):  # the simulator's own server log, in this process for the test
            self.lines.append(self.formatter_.format(record))


@pytest.fixture
def logs() -> Iterator[Capture]:
    # The production set-up (which keeps httpx's URL-bearing request lines out), at DEBUG.
    setup_logging("fetcher", "DEBUG")
    capture = Capture()
    logging.getLogger().addHandler(capture)
    yield capture
    logging.getLogger().handlers[:] = []


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(export_run, "tracer", lambda: provider.get_tracer("test"))
    return exporter


def span_text(span: ReadableSpan) -> str:
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    return f"{span.name} {dict(span.attributes or {})} {events} {span.status.description}"


def assert_clean(texts: list[str], sim: Sim) -> None:
    secrets = [*SECRETS, *sim.issued_tokens()]
    assert len(secrets) > len(SECRETS) or sim.state.config.api_keys  # tokens were issued, or keys were used
    leaks = [(secret[:6], text[:200]) for text in texts for secret in secrets if secret in text]
    assert leaks == []


@pytest.mark.parametrize("auth", list(AUTH))
async def test_a_faulty_export_leaks_no_credential(auth: str, logs: Capture, spans: InMemorySpanExporter) -> None:
    async with running_sim(sim_config(page_delay_seconds=0.02, faults=FAULTS)) as sim:
        sessions = sorted(sim.state.sessions)[:3]
        requests = [export_request()]
        if auth.startswith("api_key"):
            requests += [export_request("odata"), export_request("rest", session_ids=sessions)]
        retries = 0
        for request in requests:
            fetched = await fetch_all(sim.settings(**AUTH[auth]), request)
            assert fetched.pages
            retries += fetched.stats.retries
        assert retries > 0
        assert any("retry" in line for line in logs.lines)
        assert len(spans.get_finished_spans()) >= len(requests)
        assert_clean(logs.lines + [span_text(s) for s in spans.get_finished_spans()], sim)


async def test_refused_credentials_leak_nothing_either(logs: Capture) -> None:
    async with running_sim(sim_config(faults={"token_lifetime_seconds": 0.001})) as sim:
        failures = [
            {},  # tokens dead on arrival: a 401 after the refresh
            {"COGNIGY_CLIENT_SECRET": "wrong-secret-value"},
            {"COGNIGY_AUTH": "api_key", "COGNIGY_API_KEY": "wrong-api-key-value"},
            {"COGNIGY_AUTH": "password", "COGNIGY_USERNAME": "demo-user", "COGNIGY_PASSWORD": "wrong-password-value"},
            {"COGNIGY_AUTH": "api_key", "COGNIGY_API_KEY": "wrong-api-key-value", "COGNIGY_API_KEY_IN": "query"},
        ]
        messages = []
        for env in failures:
            with pytest.raises(ArchiverError) as caught:
                await fetch_all(sim.settings(**env), export_request("odata" if "COGNIGY_API_KEY_IN" in env
                                                                    else "export_job"))
            messages += [str(caught.value), repr(caught.value), str(caught.value.details)]
        assert_clean(messages + logs.lines, sim)
        for wrong in ("wrong-secret-value", "wrong-api-key-value", "wrong-password-value"):
            assert [text for text in messages + logs.lines if wrong in text] == []
