"""Which window a schedule submits next, and what the fetcher's and notifier's statuses do to a schedule.

Pure functions of a ScheduleState, the statuses and the time, so the scheduler's decisions can be tested
and replayed: the stage only reads the statuses and writes what these return.

A schedule runs one window at a time. Window k+1 is submitted only once the fetcher has answered window k's
request with `fetched`: the fetcher then remembers the ids window k+1 re-reads in its overlap, so nothing is
passed on twice. A window the fetcher gave up on is resubmitted as the same request (same export id, same
selection: the fetcher resumes it from its checkpoint) after a doubling backoff; the windows after it wait,
because a window skipped is a gap in the archive that nobody would notice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from shared.errors import ArchiverError, ConfigError
from shared.export_requests import parse_rule, validate_export_request
from shared.messages import (
    Deduplication,
    ExportOptions,
    ExportRequest,
    ExportStatus,
    ScheduledWindow,
    ScheduleRequest,
    ScheduleState,
    TimeWindow,
)
from shared.settings import Settings, comma_list

CONTINUOUS = "continuous"
ARCHIVED_STATES = ("completed", "partial")

Statuses = Mapping[tuple[str, str], ExportStatus]  # (export id, stage) -> that stage's latest word


@dataclass(frozen=True)
class Timing:
    settle: timedelta  # a window is submitted once its end is this far in the past
    retry_base: float
    retry_max: float
    catchup: int = 1  # settled windows submitted as one export while the schedule is behind

    @classmethod
    def of(cls, settings: Settings) -> Timing:
        return cls(timedelta(seconds=settings.cognigy.settle_seconds), settings.schedule.retry_base_seconds,
                   settings.schedule.retry_max_seconds, settings.schedule.catchup_windows)

    def backoff(self, failures: int) -> timedelta:
        return timedelta(seconds=min(self.retry_max, self.retry_base * 2 ** min(failures - 1, 30)))


@dataclass(frozen=True)
class Step:
    state: ScheduleState
    request: ExportRequest | None = None
    events: tuple[str, ...] = ()  # submitted, fetched, failed, archived: for the windows counter


def continuous_schedule(settings: Settings, now: datetime) -> ScheduleState:
    """The schedule the settings describe, as it starts: from CA_SCHEDULE_SINCE, or the retention period back
    (on a window boundary), so whatever Cognigy still holds is archived."""
    window = settings.schedule.window_seconds
    if settings.schedule.since:
        since = _setting_time(settings.schedule.since)
    else:
        oldest = (now - timedelta(days=settings.cognigy.retention_days)).timestamp()
        since = datetime.fromtimestamp(math.floor(oldest / window) * window, UTC)
    return reconfigured(ScheduleState(name=CONTINUOUS, since=since, window_seconds=window, overlap_seconds=0,
                                      options=ExportOptions(), watermark=since, updated_at=now), settings)


def reconfigured(state: ScheduleState, settings: Settings) -> ScheduleState:
    """The continuous schedule with the settings' window, overlap, source and rules for its next windows (a
    window in flight keeps the request it was submitted with: the fetcher resumes only the same request)."""
    check_schedule_settings(settings)
    return msgspec.structs.replace(
        state, window_seconds=settings.schedule.window_seconds, overlap_seconds=settings.schedule.overlap_seconds,
        source=settings.schedule.source, options=schedule_options(settings))


def check_schedule_settings(settings: Settings) -> None:
    if settings.schedule.window_seconds <= 0:
        raise ConfigError("CA_SCHEDULE_WINDOW_SECONDS must be more than 0")
    if settings.schedule.catchup_windows < 1:
        raise ConfigError("CA_SCHEDULE_CATCHUP_WINDOWS must be 1 or more")
    if settings.schedule.overlap_seconds < 0:
        raise ConfigError("CA_SCHEDULE_OVERLAP_SECONDS must be 0 or more")
    if settings.schedule.since:
        _setting_time(settings.schedule.since)
    schedule_options(settings)


def schedule_options(settings: Settings) -> ExportOptions:
    try:
        rules = [parse_rule(text) for text in comma_list(settings.schedule.pii_rules)]
    except ArchiverError as exc:  # it names the rule; the setting is what the user must fix
        raise ConfigError(f"CA_SCHEDULE_PII_RULES: {exc.message}") from None
    if not rules:
        raise ConfigError("CA_SCHEDULE_PII_RULES: give at least one rule, e.g. ALL:tokenize")
    return ExportOptions(pii_rules=rules, output_format=settings.schedule.format)


def backfill_schedule(request: ScheduleRequest) -> ScheduleState:
    """A bounded schedule over history: settled long ago, so its windows re-read nothing."""
    return ScheduleState(name=request.name, since=request.since, until=request.until,
                         window_seconds=request.window_seconds, overlap_seconds=0, source=request.source,
                         options=request.options, watermark=request.since, updated_at=request.requested_at)


def check_first_window(state: ScheduleState, settings: Settings) -> None:
    """A new schedule's first window must make a valid request (ValidationFailed names what is wrong)."""
    if state.until is None or state.watermark < state.until:
        end = state.watermark + timedelta(seconds=state.window_seconds)
        first = window_at(state, end if state.until is None else min(end, state.until), datetime.now(UTC))
        validate_export_request(window_request(state, first), settings)


def advance(state: ScheduleState, statuses: Statuses, now: datetime, timing: Timing) -> Step:
    """What the statuses say happened to the schedule's windows: archived windows leave `unarchived`; the
    window in flight is fetched (the watermark moves to its end), failed (a retry is due after the backoff) or
    due for its retry (resubmitted)."""
    events: list[str] = []
    unarchived: list[ScheduledWindow] = []
    for window in state.unarchived:
        word = statuses.get((window.export_id, "notifier"))
        if word is not None and word.state in ARCHIVED_STATES:
            events.append("archived")
            continue
        if word is not None and word.state == "failed" and window.archived != "failed":
            window = msgspec.structs.replace(window, archived="failed")
        unarchived.append(window)
    new = msgspec.structs.replace(state, unarchived=unarchived)
    request = None
    current = state.current
    if current is not None:
        answer = statuses.get((current.export_id, "fetcher"))
        if answer is not None and answer.requested_at == current.submitted_at:
            if answer.state == "fetched":
                events.append("fetched")
                new = msgspec.structs.replace(new, watermark=current.end, remembered_from=current.remember_from,
                                              current=None, unarchived=[*unarchived, current], failures=0,
                                              retry_at=None, last_error="")
            elif answer.state == "failed" and state.retry_at is None:
                events.append("failed")
                failures = state.failures + 1
                new = msgspec.structs.replace(new, failures=failures, retry_at=now + timing.backoff(failures),
                                              last_error=answer.detail)
        if new.current is not None and new.retry_at is not None and now >= new.retry_at:
            again = msgspec.structs.replace(new.current, submitted_at=now, attempts=new.current.attempts + 1)
            new = msgspec.structs.replace(new, current=again, retry_at=None)
            request = window_request(new, again)
            events.append("submitted")
    if new != state:
        new = msgspec.structs.replace(new, updated_at=now)
    return Step(new, request, tuple(events))


def submit_next(state: ScheduleState, now: datetime, timing: Timing) -> Step:
    """The next window, if none is in flight and it has settled."""
    window = next_window(state, now, timing)
    if window is None:
        return Step(state)
    new = msgspec.structs.replace(state, current=window, updated_at=now)
    return Step(new, window_request(new, window), ("submitted",))


def next_window(state: ScheduleState, now: datetime, timing: Timing) -> ScheduledWindow | None:
    """The window after the watermark once its end is `timing.settle` in the past. While more have settled (at
    the first start, or after an outage) up to `timing.catchup` of them go as one export: a schedule behind by
    days catches up in fewer, larger exports (fewer jobs to wait for), and is back to one window each once
    level. A backfill keeps the windows it was asked for."""
    if state.current is not None or (state.until is not None and state.watermark >= state.until):
        return None
    settled = now - timing.settle
    count = math.floor((settled - state.watermark).total_seconds() / state.window_seconds)
    most = timing.catchup if state.until is None else 1
    end = state.watermark + timedelta(seconds=max(1, min(most, count)) * state.window_seconds)
    if state.until is not None:
        end = min(end, state.until)
    return window_at(state, end, now) if end <= settled else None


def window_at(state: ScheduleState, end: datetime, now: datetime) -> ScheduledWindow:
    """The window from the watermark to `end`, as submitted `now`."""
    start = state.watermark
    overlap = timedelta(seconds=state.overlap_seconds)
    read_from = max(state.since, start - overlap, state.remembered_from or state.since)
    return ScheduledWindow(export_id=window_export_id(state.name, start), start=start, end=end, read_from=read_from,
                           remember_from=max(state.since, end - overlap), submitted_at=now)


def window_request(state: ScheduleState, window: ScheduledWindow) -> ExportRequest:
    return ExportRequest(export_id=window.export_id, window=TimeWindow(window.read_from, window.end),
                         options=state.options, requested_at=window.submitted_at, source=state.source,
                         deduplication=Deduplication(scope=state.name, remember_from=window.remember_from))


def window_export_id(name: str, start: datetime) -> str:
    """`<schedule>-<start, UTC>`: one id per window, the same however often it is submitted."""
    start = start.astimezone(UTC)
    millis = f".{start.microsecond // 1000:03d}" if start.microsecond else ""
    return f"{name}-{start:%Y%m%dT%H%M%S}{millis}Z"


def oldest_unarchived(state: ScheduleState) -> datetime:
    """Where the records not yet archived begin: the oldest window fetched but not archived, the window in
    flight, or the watermark (nothing after it is fetched)."""
    starts = [w.start for w in state.unarchived]
    if state.current is not None:
        starts.append(state.current.start)
    return min([*starts, state.watermark])


def finished(state: ScheduleState) -> bool:
    return (state.until is not None and state.watermark >= state.until and state.current is None
            and not state.unarchived)


def _setting_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"CA_SCHEDULE_SINCE: {text!r} is not an ISO-8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
