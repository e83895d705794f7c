"""OpenTelemetry set-up and W3C trace context carried in Kafka record headers.

Exporters come from the standard variables: `OTEL_TRACES_EXPORTER` = `otlp` (protocol from
`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, the default, or `grpc`; endpoint and headers from the
usual `OTEL_EXPORTER_OTLP_*` variables, read by the exporters themselves), `console`, or `none` (the
default: a no-op tracer, so tests and the demo pay nothing).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from shared.errors import ConfigError

Headers = list[tuple[str, bytes]]


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ConfigError(f"OTEL_TRACES_EXPORTER={name!r}: use otlp, console or none")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL",
                                                                                    "http/protobuf"))
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        return HttpExporter()
    raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use http/protobuf or grpc")


def setup_tracing(service: str) -> TracerProvider | None:
    """Install a tracer provider per the OTEL_* variables; the caller shuts it down (flushing spans)."""
    name = os.environ.get("OTEL_TRACES_EXPORTER", "none")
    if name == "none":
        return None
    service_name = os.environ.get("OTEL_SERVICE_NAME", f"cognigy-archiver-{service}")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)
    return provider


def tracer() -> trace.Tracer:
    return trace.get_tracer("cognigy-archiver")


def inject_headers(headers: Headers | None = None, at: Context | None = None) -> Headers:
    """`headers` with the W3C trace context of the current span (or of the span in `at`) added."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=at)
    out = list(headers or [])
    out.extend((k, v.encode()) for k, v in carrier.items())
    return out


def extract_context(headers: Sequence[tuple[str, bytes]] | None) -> Context:
    carrier = {k: v.decode("latin-1") for k, v in (headers or [])}
    return propagate.extract(carrier, context=context.Context())


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, hex, if one is recording."""
    ctx = trace.get_current_span().get_span_context()
    return (format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")) if ctx.is_valid else None


def current_trace_id() -> str | None:
    ids = current_ids()
    return ids[0] if ids else None
