"""Cognigy's export-job API (the seeds' protocol): create a job (202 + id), poll it until COMPLETED or
FAILED, then page through its data with next/resume tokens, proving each page's `X-Content-Sha256`."""

from __future__ import annotations

import hashlib
import logging

from shared.errors import SourceError
from shared.messages import ExportRequest
from shared.settings import Settings
from stages.fetcher.api_client import ApiClient, Download
from stages.fetcher.errors import ExportJobFailed
from stages.fetcher.pages import FetchedPage, Pages, count_items
from stages.fetcher.responses import json_object
from stages.fetcher.sources.base import JobProgress, url_segment

log = logging.getLogger(__name__)

JOBS_PATH = "/api/v1/export/jobs"
REDOWNLOADS = 3  # after the first try, for a page whose body does not match its checksum


class ExportJobSource:
    def __init__(self, api: ApiClient, settings: Settings) -> None:
        self.api = api
        self.jobs_url = settings.cognigy.base_url.rstrip("/") + JOBS_PATH

    async def prepare(self, request: ExportRequest) -> str:
        window, session_range = request.window, request.session_range
        body = {
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()} if window else None,
            "session_ids": request.session_ids,
            "session_range": {"first": session_range.first, "last": session_range.last} if session_range else None,
            # Cognigy writes JSONL or CSV; Parquet is the archiver's own, made from the records.
            "output_format": "csv" if request.options.output_format == "csv" else "jsonl",
            "pii_rules": [{"type": r.entity_type, "action": r.action, "pattern": r.pattern, "min_length": r.min_length}
                          for r in request.options.pii_rules],
            "max_storage_mb": request.options.max_storage_mb,
        }
        response = await self.api.request("POST", self.jobs_url, surface="export_job", json=body)
        job_id = json_object(response).get("jobId")
        if not job_id:
            raise SourceError(f"creating an export job: expected 202 with a jobId, got {response.status_code}")
        return str(job_id)

    async def progress(self, job_id: str) -> JobProgress:
        body = json_object(await self.api.request("GET", self._job_url(job_id), surface="export_job"))
        status = body.get("status")
        if status == "FAILED":
            reason = body.get("errorMessage") or "no reason given"
            raise ExportJobFailed(f"Cognigy export job {job_id} failed: {reason}")
        if status not in ("COMPLETED", "PROCESSING", "PENDING", "QUEUED"):
            raise SourceError(f"export job {job_id} has an unknown status {status!r}")
        return JobProgress(ready=status == "COMPLETED", percent=int(body.get("progress") or 0))

    async def pages(self, request: ExportRequest, job_id: str, resume_token: str | None) -> Pages:
        token = resume_token
        while True:
            page = await self._verified_page(job_id, token)
            yield page
            if page.resume_token is None:
                return
            token = page.resume_token

    async def _verified_page(self, job_id: str, token: str | None) -> FetchedPage:
        headers = {"X-Resume-Token": token} if token else {}
        for attempt in range(1 + REDOWNLOADS):
            download = await self.api.download(f"{self._job_url(job_id)}/data", surface="export_job",
                                               headers=headers)
            claimed, actual = _claimed_sha256(download), hashlib.sha256(download.body).hexdigest()
            next_token = download.headers.get("X-Next-Page-Token")
            if claimed == actual:
                return FetchedPage(download.body, actual, count_items(download.body), next_token)
            if attempt < REDOWNLOADS:
                self.api.stats.checksum_redownloads += 1
                log.warning("job %s: page body does not match its X-Content-Sha256; downloading it again (%d of %d)",
                            job_id, attempt + 1, REDOWNLOADS)
        problem = (f"checksum mismatch after {REDOWNLOADS} re-downloads: source said {claimed}, "
                   f"body hashes to {actual}")
        return FetchedPage(download.body, claimed, count_items(download.body), next_token, verified=False,
                           problem=problem)

    def _job_url(self, job_id: str) -> str:
        return f"{self.jobs_url}/{url_segment(job_id, 'job id')}"  # the id is the server's: it may be anything

    async def transcript(self, job_id: str, session_id: str) -> bytes:
        """One session's transcript from the job, verified against its checksum."""
        url = f"{self._job_url(job_id)}/transcripts/{url_segment(session_id, 'session id')}"
        download = await self.api.download(url, surface="export_job")
        if _claimed_sha256(download) != hashlib.sha256(download.body).hexdigest():
            raise SourceError(f"transcript of session {session_id} does not match its X-Content-Sha256")
        return download.body


def _claimed_sha256(download: Download) -> str:
    claimed = download.headers.get("X-Content-Sha256")
    if not claimed:
        raise SourceError("Cognigy sent a page without an X-Content-Sha256 header")
    return str(claimed).lower()
