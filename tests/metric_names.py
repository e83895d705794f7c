"""The metric names shared/telemetry/metrics.py exports, as a scrape shows them (a counter with `_total`, a histogram's
`_bucket`, `_count` and `_sum`): all that a dashboard panel or an alert rule may name."""

from __future__ import annotations

SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported_metric_names() -> set[str]:
    from prometheus_client import REGISTRY

    import shared.telemetry.metrics  # noqa: F401  (registers the metrics)

    return {family.name + suffix for family in REGISTRY.collect()
            for suffix in SAMPLE_SUFFIXES.get(family.type, ())}
