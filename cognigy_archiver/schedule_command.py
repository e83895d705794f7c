"""`export backfill` (a bounded schedule over history, for the scheduler) and `schedule status`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

import msgspec
import typer

from cognigy_archiver.console import fail, run_async, settings_or_fail
from shared.errors import ArchiverError, ValidationFailed
from shared.export_requests import (
    output_format_problem,
    parse_rule,
    parse_time,
    publish_schedule_request,
    read_schedules,
)
from shared.messages import OutputFormat, ScheduleRequest, SourceName
from shared.settings import Settings

schedule_app = typer.Typer(no_args_is_help=True, help="Watch continuous archiving (the scheduler's schedules).")
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


def backfill(
    since: Annotated[str, typer.Option(help="the first window's start, ISO-8601 (e.g. 2026-10-01T00:00:00Z)")],
    until: Annotated[str | None, typer.Option(help="the last window's end, ISO-8601; default: where the continuous "
                                              "schedule started")] = None,
    window_seconds: Annotated[float, typer.Option(help="length of each window (one export each)")] = 86400.0,
    source: Annotated[str, typer.Option(help="export_job or odata")] = "export_job",
    rule: Annotated[list[str] | None, typer.Option(help="PII rule TYPE:ACTION[:MIN_LENGTH] (repeatable); "
                                                  "default CA_SCHEDULE_PII_RULES")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--format", help="parquet | jsonl | csv; default CA_SCHEDULE_FORMAT")] = None,
    name: Annotated[str | None, typer.Option(help="the schedule's name (default backfill-<since>)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print results and errors as JSON")] = False,
) -> None:
    """Archive history: the scheduler submits consecutive windows from --since to --until, one at a time,
    retrying failed ones, as it does for continuous archiving; `schedule status` shows the progress."""
    settings = settings_or_fail()
    try:
        start = parse_time(since, "since")
        end = parse_time(until, "until") if until else run_async(_continuous_since(settings), settings)
        request = _backfill_request(settings, start, end, window_seconds, source, rule, output_format,
                                    name or f"backfill-{start:%Y%m%d}")
        states = run_async(read_schedules(settings), settings)
        if request.name in states:
            raise ValidationFailed([{"field": "name", "problem": f"a schedule named {request.name!r} exists: "
                                     "choose another with --name"}])
    except ArchiverError as exc:
        fail(exc, as_json)
    run_async(publish_schedule_request(settings, request), settings)
    windows = -(-(request.until - request.since).total_seconds() // request.window_seconds)
    result = {"schedule": request.name, "since": request.since.isoformat(), "until": request.until.isoformat(),
              "windows": int(windows)}
    typer.echo(json.dumps(result) if as_json else
               f"{request.name}: {int(windows)} windows from {result['since']} to {result['until']}; "
               "follow with `cognigy-archiver schedule status`")


def _backfill_request(settings: Settings, since: datetime, until: datetime, window_seconds: float, source: str,
                      rules: list[str] | None, output_format: str | None, name: str) -> ScheduleRequest:
    from stages.scheduler.windows import backfill_schedule, check_first_window, schedule_options

    problems: list[dict[str, str]] = []
    if not NAME.fullmatch(name):
        problems.append({"field": "name", "problem": "1-24 lower-case letters, digits or '-', starting with a letter "
                                                      "or digit"})
    if source not in ("export_job", "odata"):
        problems.append({"field": "source", "problem": f"{source!r}: use export_job or odata"})
    format_problem = None if output_format is None else output_format_problem(output_format)
    if format_problem is not None:
        problems.append(format_problem)
    if window_seconds <= 0:
        problems.append({"field": "window_seconds", "problem": "must be more than 0"})
    latest = datetime.now(UTC) - timedelta(seconds=settings.cognigy.settle_seconds)
    if since >= until:
        problems.append({"field": "since", "problem": "must be before --until"})
    elif until > latest:
        problems.append({"field": "until", "problem": f"{until.isoformat()} has not settled yet (the latest end is "
                                                      f"now less CA_COGNIGY_SETTLE_SECONDS: {latest.isoformat()}); "
                                                      "the continuous schedule archives what is newer"})
    if problems:
        raise ValidationFailed(problems)
    options = schedule_options(settings)
    if rules:
        options = msgspec.structs.replace(options, pii_rules=[parse_rule(text) for text in rules])
    if output_format:
        options = msgspec.structs.replace(options, output_format=cast(OutputFormat, output_format))
    request = ScheduleRequest(name=name, since=since, until=until, window_seconds=window_seconds,
                              source=cast(SourceName, source), options=options, requested_at=datetime.now(UTC))
    check_first_window(backfill_schedule(request), settings)
    return request


async def _continuous_since(settings: Settings) -> datetime:
    from stages.scheduler.windows import CONTINUOUS

    state = (await read_schedules(settings)).get(CONTINUOUS)
    if state is None:
        raise ValidationFailed([{"field": "until", "problem": "no continuous schedule has started yet: give --until"}])
    return state.since


@schedule_app.command("status")
def schedule_status(
    as_json: Annotated[bool, typer.Option("--json", help="print the schedules as JSON")] = False,
) -> None:
    """Every schedule: how far it has archived, what is in flight, how far behind it is. Exits 1 if a
    window is failing or the oldest unarchived records are past half the tenant's retention."""
    from rich.console import Console
    from rich.table import Table

    from stages.scheduler.windows import finished, oldest_unarchived

    settings = settings_or_fail()
    states = run_async(read_schedules(settings), settings)
    now = datetime.now(UTC)
    retention = timedelta(days=settings.cognigy.retention_days)
    rows: list[dict[str, Any]] = []
    for state in sorted(states.values(), key=lambda s: s.name):
        behind = now - oldest_unarchived(state)
        current = state.current
        rows.append({
            "schedule": state.name, "since": state.since.isoformat(),
            "until": state.until.isoformat() if state.until else None, "watermark": state.watermark.isoformat(),
            "in_flight": current.export_id if current else None, "attempts": current.attempts if current else 0,
            "failures": state.failures, "retry_at": state.retry_at.isoformat() if state.retry_at else None,
            "last_error": state.last_error, "unarchived_windows": len(state.unarchived),
            "oldest_unarchived": oldest_unarchived(state).isoformat(),
            "behind_seconds": round(behind.total_seconds(), 1), "finished": finished(state),
            "at_risk": state.until is None and behind > retention / 2,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        table = Table("schedule", "archived up to", "in flight", "failures", "unarchived", "behind", "state",
                      title="schedules")
        for row in rows:
            state_text = ("finished" if row["finished"] else
                          f"retry at {row['retry_at']}: {row['last_error']}" if row["retry_at"] else
                          row["last_error"] or ("AT RISK: past half the retention" if row["at_risk"] else "running"))
            table.add_row(row["schedule"], row["watermark"], row["in_flight"] or "-", str(row["failures"]),
                          str(row["unarchived_windows"]), _duration(row["behind_seconds"]), state_text)
        Console().print(table if rows else "no schedules yet (is the scheduler running?)")
    if any(row["failures"] or row["at_risk"] for row in rows):
        raise typer.Exit(1)


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s"
