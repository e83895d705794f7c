"""OpenTelemetry set-up and W3C trace context carried in Kafka record headers.

Tracing is off (a no-op tracer) unless `OTEL_TRACES_EXPORTER` names an exporter; `console` prints spans.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context

Headers = list[tuple[str, bytes]]


def setup_tracing(service: str) -> None:
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none")
    if exporter_name == "none":
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": f"cognigy-archiver-{service}"}))
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def tracer() -> trace.Tracer:
    return trace.get_tracer("cognigy-archiver")


def inject_headers(headers: Headers | None = None) -> Headers:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    out = list(headers or [])
    out.extend((k, v.encode()) for k, v in carrier.items())
    return out


def extract_context(headers: Sequence[tuple[str, bytes]] | None) -> Context:
    carrier = {k: v.decode("latin-1") for k, v in (headers or [])}
    return propagate.extract(carrier, context=context.Context())


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
