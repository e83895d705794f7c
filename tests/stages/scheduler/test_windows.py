"""The scheduler's decisions, as pure functions of its state, the statuses and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from shared.errors import ConfigError
from shared.export_requests import request_fingerprint
from shared.messages import ExportOptions, ExportStatus, ScheduleRequest, ScheduleState
from shared.settings import CognigySettings, ScheduleSettings, Settings
from stages.scheduler.windows import (
    Statuses,
    Timing,
    advance,
    backfill_schedule,
    check_schedule_settings,
    continuous_schedule,
    finished,
    oldest_unarchived,
    reconfigured,
    submit_next,
    window_export_id,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
TIMING = Timing(settle=timedelta(minutes=10), retry_base=60.0, retry_max=240.0)


def settings(**schedule: object) -> Settings:
    return Settings(schedule=msgspec.structs.replace(
        ScheduleSettings(since=T0.isoformat(), window_seconds=3600, overlap_seconds=1800), **schedule))


def status(export_id: str, stage: str, state: str, requested_at: datetime | None = None, detail: str = "") -> Statuses:
    return {(export_id, stage): msgspec.convert({"export_id": export_id, "stage": stage, "state": state,
                                                 "updated_at": T0, "requested_at": requested_at, "detail": detail},
                                                ExportStatus)}


def test_a_window_is_submitted_only_once_it_has_settled() -> None:
    state = continuous_schedule(settings(), T0)
    assert submit_next(state, T0 + HOUR, TIMING).request is None
    assert submit_next(state, T0 + HOUR + timedelta(minutes=9), TIMING).request is None
    step = submit_next(state, T0 + HOUR + timedelta(minutes=10), TIMING)
    assert step.request is not None and step.request.window is not None
    assert (step.request.window.start, step.request.window.end) == (T0, T0 + HOUR)  # the first reads no overlap
    assert step.request.export_id == "continuous-20261101T000000Z" and step.events == ("submitted",)
    assert step.state.current is not None and step.state.current.submitted_at == step.request.requested_at


def test_one_window_in_flight_until_the_fetcher_answers_its_request() -> None:
    now = T0 + 5 * HOUR
    first = submit_next(continuous_schedule(settings(), T0), now, TIMING)
    assert submit_next(first.state, now, TIMING).request is None  # window 2 waits for window 1
    # An answer to another request of the same export (an earlier attempt) changes nothing.
    stale = advance(first.state, status(first.state.current.export_id, "fetcher", "fetched", T0), now, TIMING)  # type: ignore[union-attr]
    assert stale.state == first.state
    assert first.request is not None
    fetched = advance(first.state, status(first.request.export_id, "fetcher", "fetched", first.request.requested_at),
                      now, TIMING)
    assert fetched.events == ("fetched",) and fetched.state.watermark == T0 + HOUR
    assert [w.export_id for w in fetched.state.unarchived] == [first.request.export_id]
    second = submit_next(fetched.state, now, TIMING)
    assert second.request is not None and second.request.window is not None
    # Window 2 re-reads the last half hour of window 1; the fetcher remembers from where window 3 will read.
    assert second.request.window.start == T0 + HOUR - timedelta(minutes=30)
    assert second.request.deduplication is not None
    assert second.request.deduplication.remember_from == T0 + 2 * HOUR - timedelta(minutes=30)
    assert second.request.deduplication.scope == "continuous"


def test_a_failed_window_is_resubmitted_as_the_same_request_after_a_doubling_backoff() -> None:
    now = T0 + 5 * HOUR
    step = submit_next(continuous_schedule(settings(), T0), now, TIMING)
    assert step.request is not None
    request, waits = step.request, []
    state = step.state
    for attempt in range(1, 5):
        assert state.current is not None
        failed = advance(state, status(request.export_id, "fetcher", "failed", state.current.submitted_at, "boom"),
                         now, TIMING)
        assert failed.events == ("failed",) and failed.state.failures == attempt and failed.state.last_error == "boom"
        assert failed.state.retry_at is not None
        waits.append((failed.state.retry_at - now).total_seconds())
        # The same failure seen again (the status is re-read) is not a second failure.
        assert advance(failed.state, status(request.export_id, "fetcher", "failed", state.current.submitted_at),
                       now, TIMING).state == failed.state
        assert advance(failed.state, {}, failed.state.retry_at - timedelta(seconds=1), TIMING).request is None
        now = failed.state.retry_at
        retried = advance(failed.state, {}, now, TIMING)
        assert retried.request is not None and retried.events == ("submitted",)
        assert retried.request.export_id == request.export_id
        assert request_fingerprint(retried.request) == request_fingerprint(request)  # the fetcher resumes it
        assert retried.request.requested_at == now and retried.state.current is not None
        assert retried.state.current.attempts == attempt + 1
        state = retried.state
    assert waits == [60, 120, 240, 240]
    assert state.current is not None
    done = advance(state, status(request.export_id, "fetcher", "fetched", state.current.submitted_at), now, TIMING)
    assert done.state.failures == 0 and done.state.retry_at is None and done.state.watermark == T0 + HOUR


def test_a_schedule_behind_catches_up_in_larger_windows_then_goes_back_to_one_each() -> None:
    timing = Timing(settle=timedelta(minutes=10), retry_base=60.0, retry_max=240.0, catchup=24)
    now = T0 + timedelta(hours=30, minutes=20)  # 30 windows have settled
    state, windows = continuous_schedule(settings(), T0), []
    while (step := submit_next(state, now, timing)).request is not None:
        assert step.state.current is not None and step.request.deduplication is not None
        windows.append((step.state.current.start, step.state.current.end))
        assert step.request.deduplication.remember_from == step.state.current.end - timedelta(minutes=30)
        state = advance(step.state, status(step.request.export_id, "fetcher", "fetched", step.request.requested_at),
                        now, timing).state
    assert windows == [(T0, T0 + 24 * HOUR), (T0 + 24 * HOUR, T0 + 30 * HOUR)]
    later = submit_next(state, now + HOUR, timing)
    assert later.state.current is not None
    assert (later.state.current.start, later.state.current.end) == (T0 + 30 * HOUR, T0 + 31 * HOUR)


def test_archived_windows_leave_the_unarchived_list_and_the_oldest_unarchived_moves() -> None:
    now = T0 + 5 * HOUR
    state = continuous_schedule(settings(), T0)
    ids = []
    for _ in range(3):
        step = submit_next(state, now, TIMING)
        assert step.request is not None
        ids.append(step.request.export_id)
        state = advance(step.state, status(step.request.export_id, "fetcher", "fetched", step.request.requested_at),
                        now, TIMING).state
    assert oldest_unarchived(state) == T0 and state.watermark == T0 + 3 * HOUR
    state = advance(state, {**status(ids[1], "notifier", "completed"), **status(ids[0], "notifier", "failed")},
                    now, TIMING).state
    assert [(w.export_id, w.archived) for w in state.unarchived] == [(ids[0], "failed"), (ids[2], "")]
    state = advance(state, status(ids[0], "notifier", "partial"), now, TIMING).state
    assert oldest_unarchived(state) == T0 + 2 * HOUR


def test_a_longer_overlap_set_later_never_reads_before_what_the_fetcher_remembers() -> None:
    now = T0 + 5 * HOUR
    step = submit_next(continuous_schedule(settings(), T0), now, TIMING)
    assert step.request is not None
    state = advance(step.state, status(step.request.export_id, "fetcher", "fetched", step.request.requested_at),
                    now, TIMING).state
    longer = reconfigured(state, settings(overlap_seconds=7200))
    nxt = submit_next(longer, now, TIMING)
    assert nxt.request is not None and nxt.request.window is not None
    assert nxt.request.window.start == T0 + timedelta(minutes=30)  # window 1 remembered from here on


def test_a_backfill_is_bounded_and_finishes() -> None:
    since = T0 - timedelta(days=3)
    request = ScheduleRequest(name="backfill-1", since=since, until=since + timedelta(hours=60),
                              window_seconds=86400, options=ExportOptions(), requested_at=T0)
    state = backfill_schedule(request)
    windows = []
    catching_up = Timing(settle=timedelta(minutes=10), retry_base=60.0, retry_max=240.0, catchup=24)
    while (step := submit_next(state, T0, catching_up)).request is not None:  # a backfill keeps its windows
        req = step.request
        assert req.window is not None
        windows.append((req.window.start, req.window.end))
        state = advance(step.state, status(req.export_id, "fetcher", "fetched", req.requested_at), T0, TIMING).state
    assert windows == [(since, since + timedelta(days=1)), (since + timedelta(days=1), since + timedelta(days=2)),
                       (since + timedelta(days=2), since + timedelta(hours=60))]
    assert not finished(state)  # fetched, not yet archived
    for start, _ in windows:
        state = advance(state, status(window_export_id("backfill-1", start), "notifier", "completed"), T0, TIMING).state
    assert finished(state)


def test_the_continuous_schedule_starts_a_retention_period_back_on_a_window_boundary() -> None:
    now = datetime(2026, 12, 2, 13, 47, 12, tzinfo=UTC)
    thirty_days = msgspec.structs.replace(settings(since=""), cognigy=CognigySettings(retention_days=30.0))
    state = continuous_schedule(thirty_days, now)
    assert state.since == datetime(2026, 11, 2, 13, tzinfo=UTC) and state.watermark == state.since


def test_window_ids_name_the_window_start_in_utc() -> None:
    assert window_export_id("continuous", datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == \
        "continuous-20260102T030405.678Z"
    assert window_export_id("x", datetime(2026, 1, 2, 4, tzinfo=UTC).astimezone(
        datetime.now().astimezone().tzinfo)) == "x-20260102T040000Z"


@pytest.mark.parametrize(("overrides", "named"), [
    ({"window_seconds": 0}, "CA_SCHEDULE_WINDOW_SECONDS"),
    ({"overlap_seconds": -1}, "CA_SCHEDULE_OVERLAP_SECONDS"),
    ({"since": "yesterday"}, "CA_SCHEDULE_SINCE"),
    ({"pii_rules": "EMAIL:shred"}, "CA_SCHEDULE_PII_RULES"),
    ({"pii_rules": " , "}, "CA_SCHEDULE_PII_RULES"),
])
def test_bad_schedule_settings_are_named(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        check_schedule_settings(settings(**overrides))


def test_state_round_trips_through_its_topic_encoding() -> None:
    step = submit_next(continuous_schedule(settings(), T0), T0 + 5 * HOUR, TIMING)
    encoded = msgspec.msgpack.encode(step.state)
    assert msgspec.msgpack.decode(encoded, type=ScheduleState) == step.state
