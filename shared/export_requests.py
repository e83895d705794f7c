"""Export and schedule requests: built from what a command line gives, checked before anything is sent
with every problem named at once, and published to the pipeline.

Kafka's modules are imported by the functions that publish or read: the CLI imports this module for every
command."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import get_args

import msgspec

from shared.errors import ValidationFailed
from shared.messages import (
    EXPORT_ID_PATTERN,
    ExportOptions,
    ExportRequest,
    OutputFormat,
    PiiAction,
    PiiRule,
    ScheduleRequest,
    ScheduleState,
    SessionRange,
    SourceName,
    TimeWindow,
    encode,
)
from shared.settings import Settings
from shared.user_patterns import pattern_problem

PII_ACTIONS: tuple[PiiAction, ...] = get_args(PiiAction)
OUTPUT_FORMATS: tuple[OutputFormat, ...] = get_args(OutputFormat)
SOURCES: tuple[SourceName, ...] = get_args(SourceName)
MAX_SESSION_ID_LENGTH = 256
# How far in the future a window's end may lie: the clocks of the submitter and this host may differ a little.
FUTURE_END_TOLERANCE = timedelta(minutes=1)
# A session id goes into URL paths (percent-encoded): '.' and '..' would name another path, control
# characters have no business in an id.
_SESSION_ID = re.compile(r"[^\x00-\x1f\x7f]+")


def new_export_id() -> str:
    return "exp-" + uuid.uuid4().hex[:16]


def parse_time(text: str, field: str) -> datetime:
    """An ISO-8601 time; one without a time zone is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([{"field": field, "problem": f"{text!r} is not an ISO-8601 time"}]) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def output_format_problem(output_format: str) -> dict[str, str] | None:
    if output_format in OUTPUT_FORMATS:
        return None
    return {"field": "format", "problem": f"{output_format!r}: use {' or '.join(OUTPUT_FORMATS)}"}


def build_request(start: str | None, end: str | None, session_ids: list[str], rules: list[str], output_format: str,
                  max_storage_mb: int | None, retention_days: int | None, export_id: str | None, *,
                  source: str = "export_job", session_range: tuple[str, str] | None = None) -> ExportRequest:
    """The request the options of `export submit` describe; a malformed option is a ValidationFailed, and
    what is well-formed but not allowed is left to `validate_export_request`."""
    window = None
    if start or end:
        if not (start and end):
            raise ValidationFailed([{"field": "window", "problem": "give both --start and --end"}])
        window = TimeWindow(parse_time(start, "start"), parse_time(end, "end"))
    problem = output_format_problem(output_format)
    if problem is not None:
        raise ValidationFailed([problem])
    if source not in SOURCES:
        raise ValidationFailed([{"field": "source", "problem": f"{source!r}: use one of {', '.join(SOURCES)}"}])
    options = msgspec.convert({
        "pii_rules": [msgspec.to_builtins(parse_rule(r)) for r in (rules or ["ALL:tokenize"])],
        "output_format": output_format, "max_storage_mb": max_storage_mb, "retention_days": retention_days,
    }, ExportOptions)
    # Built as is, not converted: validate_export_request names every problem (an export id too) at once.
    return ExportRequest(export_id=export_id or new_export_id(), window=window, session_ids=session_ids,
                         options=options, requested_at=datetime.now(UTC), source=source,
                         session_range=None if session_range is None else SessionRange(*session_range))


def validate_export_request(request: ExportRequest, settings: Settings) -> None:
    problems: list[dict[str, str]] = []

    def problem(field: str, text: str) -> None:
        problems.append({"field": field, "problem": text})

    if not re.fullmatch(EXPORT_ID_PATTERN, request.export_id):
        problem("export_id", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
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
            if days > (limit := settings.cognigy.max_window_days):
                problem("window", f"{days:.0f} days is longer than the limit of {limit} days")
            now = datetime.now(UTC)
            if window.start > now:
                problem("window", "start is in the future")
            # The fetcher holds a window until its end is CA_COGNIGY_SETTLE_SECONDS past, taking no other
            # export meanwhile: a window ending far ahead would stall every export behind it.
            elif window.end > now + FUTURE_END_TOLERANCE:
                problem("window", "end is in the future: submit the window once it has passed")
    if request.deduplication is not None and request.deduplication.remember_from.tzinfo is None:
        problem("deduplication.remember_from", "needs a time zone (e.g. 2024-06-01T00:00:00Z)")
    if len(request.session_ids) > (most := settings.cognigy.max_session_ids):
        problem("session_ids", f"{len(request.session_ids)} ids; at most {most} per request")
    for i, session_id in enumerate(request.session_ids):
        if not valid_session_id(session_id):
            problem(f"session_ids[{i}]", f"not a session id: 1-{MAX_SESSION_ID_LENGTH} characters, no control "
                                         "characters, not '.' or '..'")
    options = request.options
    if not options.pii_rules:
        problem("pii_rules", "at least one PII rule is required")
    for i, rule in enumerate(options.pii_rules):
        if not rule.entity_type.strip():
            problem(f"pii_rules[{i}].entity_type", "name the entity type (e.g. EMAIL_ADDRESS, or ALL)")
        if rule.min_length < 0:
            problem(f"pii_rules[{i}].min_length", "must be 0 or more")
        pattern = None if rule.pattern is None else pattern_problem(rule.pattern)
        if pattern is not None:
            problem(f"pii_rules[{i}].pattern", pattern)
    if options.max_storage_mb is not None and options.max_storage_mb <= 0:
        problem("max_storage_mb", "must be a positive number of megabytes")
    if options.retention_days is not None and options.retention_days <= 0:
        problem("retention_days", "must be a positive number of days")
    if problems:
        raise ValidationFailed(problems)


def parse_rule(text: str) -> PiiRule:
    """`TYPE:ACTION[:MIN_LENGTH]`, e.g. `EMAIL_ADDRESS:tokenize` or `ALL:mask`."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[1] not in PII_ACTIONS:
        raise ValidationFailed([{"field": "rule", "problem": f"{text!r}: use TYPE:ACTION[:MIN_LENGTH] with ACTION "
                                 f"one of {', '.join(PII_ACTIONS)}"}])
    try:
        min_length = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        raise ValidationFailed([{"field": "rule", "problem": f"{text!r}: MIN_LENGTH must be a number"}]) from None
    return msgspec.convert({"entity_type": parts[0].upper(), "action": parts[1], "min_length": min_length}, PiiRule)


def valid_session_id(session_id: str) -> bool:
    return (len(session_id) <= MAX_SESSION_ID_LENGTH and session_id not in (".", "..")
            and _SESSION_ID.fullmatch(session_id) is not None)


def request_fingerprint(request: ExportRequest) -> str:
    """SHA-256 of what decides an export's content: its source, selection and options, not its id or when
    it was asked. An export resumes only under the fingerprint it started with (see the fetcher)."""
    window = request.window
    if window is not None:  # the same instants written in another time zone are the same window
        window = msgspec.structs.replace(window, start=window.start.astimezone(UTC), end=window.end.astimezone(UTC))
    essence = msgspec.structs.replace(request, export_id="-", requested_at=None, window=window)
    return hashlib.sha256(encode(essence)).hexdigest()


async def publish_request(settings: Settings, request: ExportRequest) -> None:
    from shared.kafka.topics import EXPORTS

    await _publish(settings, EXPORTS, request.export_id, request)


async def publish_schedule_request(settings: Settings, request: ScheduleRequest) -> None:
    from shared.kafka.topics import SCHEDULES

    await _publish(settings, SCHEDULES, request.name, request)


async def read_schedules(settings: Settings) -> dict[str, ScheduleState]:
    """Every schedule's state as the scheduler last wrote it, by name."""
    from shared.kafka.tables import read_table
    from shared.kafka.topics import SCHEDULER_STATE

    table = await read_table(settings, settings.kafka.topic(SCHEDULER_STATE), ScheduleState)
    return {state.name: state for state in table.values()}


async def _publish(settings: Settings, topic: str, key: str, message: ExportRequest | ScheduleRequest) -> None:
    from shared.kafka.clients import plain_producer

    producer = plain_producer(settings)
    try:
        await producer.start()
        await producer.send_and_wait(settings.kafka.topic(topic), encode(message), key=key.encode())
    finally:
        await producer.stop()
