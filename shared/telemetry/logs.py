"""Logging: JSON lines for machines, plain text on a terminal. Callers never pass PII or secrets."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from shared.telemetry.tracing import current_ids


class JsonFormatter(logging.Formatter):
    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "stage": self.stage,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("export_id", "page_index"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        ids = current_ids()
        if ids:
            entry["trace_id"], entry["span_id"] = ids
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry)


class RetriedCoordinatorLookup(logging.Filter):
    """aiokafka logs a failed lookup of the group coordinator at ERROR although it retries it when the error is
    retriable, as on every first start against a fresh cluster (no coordinator until the broker has made its
    offsets topic): such a line is information, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if str(record.msg).startswith("Group Coordinator Request failed") and getattr(error, "retriable", False):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


_RETRIED_LOOKUP = RetriedCoordinatorLookup()


def setup_logging(stage: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(logging.Formatter(f"%(asctime)s {stage:<9} %(levelname)-7s %(message)s", "%H:%M:%S"))
    else:
        handler.setFormatter(JsonFormatter(stage))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every rebalance and retry at INFO; keep its warnings only.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("aiokafka.consumer.group_coordinator").addFilter(_RETRIED_LOOKUP)  # once: same object
    # httpx logs every request at INFO, URLs included (they may carry tokens).
    logging.getLogger("httpx").setLevel(logging.WARNING)
