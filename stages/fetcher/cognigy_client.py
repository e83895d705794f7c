"""An async client for Cognigy's export-job API: OAuth2 client credentials, job creation and polling,
paged data with resume tokens. Transient failures (429, 408, 5xx, network) are retried with backoff,
honouring Retry-After; anything else fails fast with the server's own words."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from shared.errors import SourceError
from shared.messages import ExportRequest
from shared.settings import Settings

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TOKEN_REFRESH_MARGIN_SECONDS = 60


class TransientSourceError(SourceError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class JobStatus:
    status: str
    progress: int
    total_pages: int | None
    total_records: int | None
    error_message: str | None


@dataclass(frozen=True)
class Page:
    body: bytes
    sha256: str
    page_index: int
    resume_token: str | None


def _describe(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error_description") or body.get("error") or body)[:500]
    return str(body)[:500]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class _WaitRetryAfter(wait_random_exponential):
    """Full-jitter exponential backoff, unless the server said how long to wait."""

    def __call__(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, TransientSourceError) and exc.retry_after is not None:
            return exc.retry_after
        return float(super().__call__(retry_state))


class CognigyClient:
    def __init__(self, settings: Settings, max_attempts: int = 6) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(base_url=settings.cognigy_base_url, timeout=settings.cognigy_timeout_seconds)
        self.max_attempts = max_attempts
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.http.aclose()

    async def _access_token(self, force: bool = False) -> str:
        async with self._token_lock:  # one refresh at a time, however many requests wait for it
            if force or self._token is None or time.monotonic() > self._token_expires - TOKEN_REFRESH_MARGIN_SECONDS:
                response = await self.http.post("/auth/oauth2/token", data={
                    "grant_type": "client_credentials",
                    "client_id": self.settings.cognigy_client_id,
                    "client_secret": self.settings.cognigy_client_secret,
                })
                if response.status_code != 200:
                    raise SourceError(f"Cognigy token request failed ({response.status_code}): {_describe(response)}")
                body = response.json()
                self._token = str(body["access_token"])
                self._token_expires = time.monotonic() + float(body.get("expires_in", 3600))
            return self._token

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=_WaitRetryAfter(multiplier=0.5, max=30),
            retry=retry_if_exception(lambda e: isinstance(e, TransientSourceError | httpx.TransportError)),
            reraise=True,
        ):
            with attempt:
                return await self._request_once(method, url, **kwargs)
        raise AssertionError("unreachable")

    async def _request_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers["Authorization"] = f"Bearer {await self._access_token()}"
        response = await self.http.request(method, url, headers=headers, **kwargs)
        if response.status_code == 401:  # expired or revoked: refresh once and retry once
            headers["Authorization"] = f"Bearer {await self._access_token(force=True)}"
            response = await self.http.request(method, url, headers=headers, **kwargs)
        if response.status_code in RETRYABLE_STATUS:
            raise TransientSourceError(f"{method} {url}: {response.status_code} {_describe(response)}",
                                       _retry_after(response))
        if response.status_code >= 400:
            raise SourceError(f"{method} {url} failed ({response.status_code}): {_describe(response)}",
                              details={"status": response.status_code})
        return response

    async def create_job(self, request: ExportRequest) -> str:
        window = request.window
        body = {
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()} if window else None,
            "session_ids": request.session_ids,
            "output_format": request.options.output_format,
            "pii_rules": [{"type": r.entity_type, "action": r.action} for r in request.options.pii_rules],
            "max_storage_mb": request.options.max_storage_mb,
        }
        response = await self._request("POST", "/api/v1/export/jobs", json=body)
        return str(response.json()["jobId"])

    async def job_status(self, job_id: str) -> JobStatus:
        body = (await self._request("GET", f"/api/v1/export/jobs/{job_id}")).json()
        return JobStatus(status=body["status"], progress=int(body.get("progress") or 0),
                         total_pages=body.get("totalPages"), total_records=body.get("totalRecords"),
                         error_message=body.get("errorMessage"))

    async def fetch_page(self, job_id: str, resume_token: str | None) -> Page:
        headers = {"X-Resume-Token": resume_token} if resume_token else {}
        response = await self._request("GET", f"/api/v1/export/jobs/{job_id}/data", headers=headers)
        checksum = response.headers.get("X-Content-Sha256")
        if not checksum:
            raise SourceError(f"page of job {job_id} came without an X-Content-Sha256 header")
        return Page(body=response.content, sha256=checksum.lower(),
                    page_index=int(response.headers.get("X-Page-Index", -1)),
                    resume_token=response.headers.get("X-Next-Page-Token"))
