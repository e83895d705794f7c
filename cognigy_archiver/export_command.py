"""`cognigy-archiver export submit|status|list`: submitting exports and following them (`export backfill`
is in schedule_command.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cognigy_archiver.console import fail, run_async, settings_or_fail
from shared.errors import ArchiverError
from shared.export_requests import build_request, publish_request, validate_export_request


def export_submit(
    start: Annotated[str | None, typer.Option(help="window start, ISO-8601 (e.g. 2026-10-01T00:00:00Z)")] = None,
    end: Annotated[str | None, typer.Option(help="window end, ISO-8601, exclusive")] = None,
    session_id: Annotated[list[str] | None, typer.Option(help="export only these sessions (repeatable)")] = None,
    session_range: Annotated[tuple[str, str] | None, typer.Option(
        metavar="FIRST LAST", help="export the sessions with ids from FIRST to LAST (both included)")] = None,
    source: Annotated[str, typer.Option(help="where the fetcher reads: export_job (Cognigy's export jobs), odata "
                                        "(the OData analytics endpoint; needs a window) or rest (one conversation "
                                        "per session id; needs --session-id)")] = "export_job",
    rule: Annotated[list[str] | None, typer.Option(help="PII rule TYPE:ACTION[:MIN_LENGTH] (repeatable); "
                                                  "default ALL:tokenize")] = None,
    output_format: Annotated[str, typer.Option("--format", help="parquet | jsonl | csv")] = "parquet",
    max_storage_mb: int | None = None,
    retention_days: int | None = None,
    export_id: Annotated[str | None, typer.Option(help="default: a new random id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print results and errors as JSON")] = False,
) -> None:
    """Validate an export request and submit it; prints the export id."""
    settings = settings_or_fail()
    try:
        request = build_request(start, end, session_id or [], rule or [], output_format, max_storage_mb,
                                retention_days, export_id, source=source, session_range=session_range)
        validate_export_request(request, settings)
    except ArchiverError as exc:
        fail(exc, as_json)
    run_async(publish_request(settings, request), settings)
    typer.echo(json.dumps({"export_id": request.export_id}) if as_json else request.export_id)


def export_status(
    export_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="live progress until the export ends")] = False,
) -> None:
    """Progress of an export per stage: pages fetched, verified, sanitized, archived; errors; ETA."""
    from cognigy_archiver.progress import follow_export

    settings = settings_or_fail()
    view = run_async(follow_export(settings, export_id, follow), settings)
    if view.unknown:
        fail(ArchiverError(f"no status for export {export_id!r} yet (is the fetcher running?)"))
    if view.state in ("failed", "partial"):
        raise typer.Exit(1)


def export_list() -> None:
    """Every export the status topic knows, newest first."""
    from rich.console import Console

    from cognigy_archiver.progress import status_rows
    from shared.kafka.tables import read_table
    from shared.kafka.topics import EXPORTS_STATUS
    from shared.messages import ExportStatus

    settings = settings_or_fail()
    table = run_async(read_table(settings, settings.kafka.topic(EXPORTS_STATUS), ExportStatus), settings)
    Console().print(status_rows(list(table.values())))
