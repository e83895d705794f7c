"""`cognigy-archiver fetch`: one export with the fetcher logic alone (no Kafka) into a directory, to check a
tenant's connectivity, credentials and rate limits before a real run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from cognigy_archiver.console import fail, settings_or_fail
from shared.errors import ArchiverError, ValidationFailed
from shared.export_requests import build_request, validate_export_request
from shared.messages import SessionRange


def fetch(
    out: Annotated[Path, typer.Option(help="directory for pages/, dlq/, transcripts/ and summary.json")],
    source: Annotated[str, typer.Option(help="export_job | odata | rest")] = "export_job",
    base_url: Annotated[str | None, typer.Option(help="Cognigy API base URL (default: CA_COGNIGY_BASE_URL)")] = None,
    odata_url: Annotated[str | None, typer.Option(help="OData base URL (default: CA_COGNIGY_ODATA_URL, "
                                                  "else the base URL)")] = None,
    start: Annotated[str | None, typer.Option(help="window start, ISO-8601")] = None,
    end: Annotated[str | None, typer.Option(help="window end, ISO-8601, exclusive")] = None,
    session_id: Annotated[list[str] | None, typer.Option(help="only these sessions (repeatable)")] = None,
    session_range: Annotated[str | None, typer.Option(help="FIRST..LAST session ids, both included")] = None,
    max_storage_mb: int | None = None,
    concurrency: Annotated[int | None, typer.Option(help="requests in flight (default: "
                                                    "CA_COGNIGY_MAX_CONCURRENCY)")] = None,
    transcripts: Annotated[bool, typer.Option(help="export_job: also download each session's transcript")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary and errors as JSON")] = False,
) -> None:
    """Run one export against any Cognigy base URL with the configured credentials, into a directory."""
    import asyncio

    from shared.telemetry.logs import setup_logging
    from stages.fetcher.to_directory import fetch_to_directory

    settings = settings_or_fail()
    setup_logging("fetch", settings.operations.log_level)
    overrides = {"base_url": base_url, "odata_url": odata_url, "max_concurrency": concurrency}
    cognigy = msgspec.structs.replace(settings.cognigy, **{k: v for k, v in overrides.items() if v is not None})
    settings = msgspec.structs.replace(settings, cognigy=cognigy)
    try:
        request = build_request(start, end, session_id or [], [], "jsonl", max_storage_mb, None, None, source=source)
        request = msgspec.structs.replace(request, session_range=_range(session_range))
        validate_export_request(request, settings)
        summary = asyncio.run(fetch_to_directory(settings, request, out, transcripts=transcripts))
    except ArchiverError as exc:
        fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps(msgspec.to_builtins(summary)))
    else:
        typer.echo(f"{summary.pages} pages, {summary.records} records, {summary.bytes} bytes in "
                   f"{summary.duration_seconds:.1f} s ({summary.requests} requests, {summary.retries} retries, "
                   f"{summary.throttled} throttled) -> {out}")
    if summary.partial:
        typer.secho(f"partial: page(s) {summary.mismatched_pages} never matched their checksum (see {out / 'dlq'})",
                    fg="red", err=True)
        raise typer.Exit(1)


def _range(text: str | None) -> SessionRange | None:
    if text is None:
        return None
    first, sep, last = text.partition("..")
    if not sep:
        raise ValidationFailed([{"field": "session_range", "problem": f"{text!r}: use FIRST..LAST"}])
    return SessionRange(first, last)
