"""One export with the fetcher logic alone, no Kafka: each page body, its verified checksum (in
`sha256sum` format) and a JSON summary into a directory. What `cognigy-archiver fetch` runs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import msgspec

from shared.errors import ArchiverError, SourceError
from shared.messages import ExportRequest, FetchCheckpoint
from shared.nesting import json_array
from shared.settings import Settings, redact_url
from stages.fetcher.api_client import ApiClient
from stages.fetcher.export_run import run_export
from stages.fetcher.pages import FetchedPage, session_of, source_record
from stages.fetcher.sources import ExportJobSource, open_source
from stages.fetcher.sources.rest import ordered_map


class FetchSummary(msgspec.Struct, kw_only=True):
    export_id: str
    source: str
    base_url: str
    ok: bool
    partial: bool = False
    error: str | None = None
    job_id: str = ""
    pages: int = 0
    records: int = 0
    bytes: int = 0
    mismatched_pages: list[int] = []
    transcripts: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429 responses
    checksum_redownloads: int = 0
    ranged_resumes: int = 0
    duration_seconds: float = 0.0
    pages_per_second: float = 0.0
    requests_per_second: float = 0.0
    started_at: datetime


class DirectorySink:
    """`pages/NNNNNNNN.json` and `.json.sha256`; a page that never matched its checksum goes to `dlq/` with
    the reason instead."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.checkpoint: FetchCheckpoint | None = None
        for name in ("pages", "dlq"):
            (out / name).mkdir(parents=True, exist_ok=True)

    async def job_created(self, checkpoint: FetchCheckpoint) -> None:
        self.checkpoint = checkpoint

    async def job_progress(self, checkpoint: FetchCheckpoint, percent: int) -> None:
        self.checkpoint = checkpoint

    async def page(self, index: int, page: FetchedPage, checkpoint: FetchCheckpoint) -> None:
        name = f"{index:08d}.json"
        if not page.verified:
            self._dead_letter(index, page.body, page.problem)  # the export completes as partial
        elif unreadable := page_shape_problem(page.body):
            # No verifier downstream to dead-letter it: the run stops here rather than report records it never read.
            self._dead_letter(index, page.body, unreadable)
            raise SourceError(f"page {index}: {unreadable} (kept in {self.out / 'dlq' / name})")
        else:
            write_verified(self.out / "pages", name, page.body, page.sha256)
        self.checkpoint = checkpoint

    def _dead_letter(self, index: int, body: bytes, reason: str) -> None:
        (self.out / "dlq" / f"{index:08d}.json").write_bytes(body)
        (self.out / "dlq" / f"{index:08d}.reason.txt").write_text(reason + "\n")


def page_shape_problem(body: bytes) -> str:
    """Why a page body cannot be read as the export-job API's page, `{"items": [record, ...]}` with each
    record a JSON object; "" if it can."""
    try:
        items = json_array(body, "items")
    except msgspec.DecodeError as exc:
        return f"cannot read the body ({exc}); expected a JSON object with an `items` array of records"
    for position, item in enumerate(items):
        try:
            source_record(item)
        except msgspec.DecodeError as exc:
            return f"cannot read record {position} of `items`: {exc}"
    return ""


def write_verified(directory: Path, name: str, body: bytes, sha256: str) -> None:
    (directory / name).write_bytes(body)
    (directory / f"{name}.sha256").write_text(f"{sha256}  {name}\n")  # `sha256sum -c` reads this


async def fetch_to_directory(settings: Settings, request: ExportRequest, out: Path, *,
                             transcripts: bool = False) -> FetchSummary:
    """Run the export into `out`; the summary is written to `out/summary.json` whatever happens, and
    returned (errors are raised after it is written)."""
    api = ApiClient(settings)
    sink = DirectorySink(out)
    summary = FetchSummary(export_id=request.export_id, source=request.source,
                           base_url=redact_url(settings.cognigy.base_url), ok=False, started_at=datetime.now(UTC))
    started = time.monotonic()
    try:
        source = open_source(request.source, api, settings)
        checkpoint = await run_export(source, request, None, sink, asyncio.Event(),
                                      settings.cognigy.poll_interval_seconds,
                                      settle_seconds=settings.cognigy.settle_seconds)
        if transcripts and isinstance(source, ExportJobSource):
            summary.transcripts = await _transcripts(source, checkpoint.job_id, out, settings.cognigy.max_concurrency)
        summary.ok = True
    except ArchiverError as exc:
        summary.error = exc.message
        raise
    finally:
        await api.close()
        _fill(summary, sink.checkpoint, api, time.monotonic() - started)
        (out / "summary.json").write_bytes(msgspec.json.format(msgspec.json.encode(summary)) + b"\n")
    return summary


async def _transcripts(source: ExportJobSource, job_id: str, out: Path, concurrency: int) -> int:
    """Every session in the fetched pages, as the job's per-session transcript."""
    sessions: dict[str, None] = {}
    for page in sorted((out / "pages").glob("*.json")):
        # A page or record that does not parse names no session (judging it is the verifier's work).
        with contextlib.suppress(msgspec.DecodeError):
            for item in json_array(page.read_bytes(), "items"):
                with contextlib.suppress(msgspec.DecodeError):
                    if (session := session_of(item)) is not None:
                        sessions[session] = None
    directory = out / "transcripts"
    directory.mkdir(exist_ok=True)
    ids = list(sessions)
    names = [transcript_name(session) for session in ids]  # all checked before any is fetched
    written = 0
    async for body in ordered_map(ids, lambda session: source.transcript(job_id, session), concurrency):
        write_verified(directory, names[written], body, hashlib.sha256(body).hexdigest())
        written += 1
    return written


MAX_NAME = 255 - len(".sha256")  # a file name's limit on common file systems, with the checksum file's suffix


def transcript_name(session_id: str) -> str:
    """The transcript's file name: the session id (which the source chose) percent-encoded, so that it is
    one name inside the directory (no '/', no leading '.'), and the same id always gives the same name."""
    name = quote(session_id, safe="") + ".json"
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > MAX_NAME:
        raise SourceError(f"a session id of {len(session_id)} characters is too long to name its transcript file")
    return name


def _fill(summary: FetchSummary, checkpoint: FetchCheckpoint | None, api: ApiClient, seconds: float) -> None:
    stats = api.stats
    if checkpoint is not None:
        summary.job_id = checkpoint.job_id
        summary.pages, summary.records, summary.bytes = checkpoint.next_page_index, checkpoint.records, checkpoint.bytes
        summary.mismatched_pages = checkpoint.mismatched_pages
    summary.partial = bool(summary.mismatched_pages)
    summary.requests, summary.retries, summary.throttled = stats.requests, stats.retries, stats.throttled
    summary.checksum_redownloads, summary.ranged_resumes = stats.checksum_redownloads, stats.ranged_resumes
    summary.duration_seconds = round(seconds, 3)
    summary.pages_per_second = round(summary.pages / seconds, 2) if seconds else 0.0
    summary.requests_per_second = round(summary.requests / seconds, 3) if seconds else 0.0
