"""Checking an export request before anything is sent, with every problem named at once."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from shared.errors import ValidationFailed
from shared.messages import ExportRequest
from shared.settings import Settings

PII_ACTIONS = ("mask", "tokenize", "redact", "encrypt")
OUTPUT_FORMATS = ("jsonl", "csv")


def new_export_id() -> str:
    return "exp-" + uuid.uuid4().hex[:16]


def validate_export_request(request: ExportRequest, settings: Settings) -> None:
    problems: list[dict[str, str]] = []

    def problem(field: str, text: str) -> None:
        problems.append({"field": field, "problem": text})

    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", request.export_id):
        problem("export_id", "use 1-64 letters, digits, '.', '_' or '-'")
    window = request.window
    if window is None and not request.session_ids and request.session_range is None:
        problem("window", "give a time window, session ids or a session-id range")
    if request.session_range is not None:
        if request.session_ids:
            problem("session_range", "give session ids or a session-id range, not both")
        if not request.session_range.first or request.session_range.first > request.session_range.last:
            problem("session_range", "first must be non-empty and not after last")
    if request.source == "rest" and not request.session_ids:
        problem("source", "the REST source fetches sessions by id: list the session ids")
    if request.source == "odata" and window is None:
        problem("source", "the OData source pages by timestamp: give a time window")
    if window is not None:
        if window.start.tzinfo is None or window.end.tzinfo is None:
            problem("window", "start and end need a time zone (e.g. 2024-06-01T00:00:00Z)")
        elif window.start >= window.end:
            problem("window", "start must be before end")
        else:
            days = (window.end - window.start).total_seconds() / 86400
            if days > settings.max_window_days:
                problem("window", f"{days:.0f} days is longer than the limit of {settings.max_window_days} days")
            if window.start > datetime.now(UTC):
                problem("window", "start is in the future")
    if len(request.session_ids) > settings.max_session_ids:
        problem("session_ids", f"{len(request.session_ids)} ids; at most {settings.max_session_ids} per request")
    options = request.options
    if not options.pii_rules:
        problem("pii_rules", "at least one PII rule is required")
    for i, rule in enumerate(options.pii_rules):
        if not rule.entity_type.strip():
            problem(f"pii_rules[{i}].entity_type", "name the entity type (e.g. EMAIL_ADDRESS, or ALL)")
        if rule.min_length < 0:
            problem(f"pii_rules[{i}].min_length", "must be 0 or more")
        if rule.pattern is not None:
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                problem(f"pii_rules[{i}].pattern", f"not a valid regular expression: {exc}")
    if options.max_storage_mb is not None and options.max_storage_mb <= 0:
        problem("max_storage_mb", "must be a positive number of megabytes")
    if options.retention_days is not None and options.retention_days <= 0:
        problem("retention_days", "must be a positive number of days")
    if problems:
        raise ValidationFailed(problems)
