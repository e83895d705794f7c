"""Every request the fetcher sends to Cognigy goes through here: paced by the tenant's token bucket,
bounded in concurrency, authorized, retried, and turned into an error a user can act on.

Retries (tenacity, policy in `retries`): a 429 is waited out within the retry budget (time), as long as
`Retry-After` says (seconds or an HTTP date) or with a growing backoff, and holds back every other request
too; 408, 5xx and network errors back off with full jitter, within a few attempts and the same budget.
Everything else fails at once, with the server's own words.
Credentials never reach a message: error text is scrubbed of every secret in play.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from shared.errors import QuotaExceeded, SourceError
from shared.http_retry import retry_after
from shared.settings import Settings
from shared.telemetry import metrics
from stages.fetcher.auth import SURFACE, CognigyAuth, Surface, authenticator
from stages.fetcher.errors import AuthenticationFailed, PermissionDenied, TransientSourceError
from stages.fetcher.rate_limit import TokenBucket
from stages.fetcher.responses import describe
from stages.fetcher.retries import Patience, RetryPolicy, throttled

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
QUERY_SAFE = "$'(),:"
# What each API needs beyond valid credentials, named in a 403's error.
REQUIRED_GRANT: dict[Surface, str] = {
    "token": "permission to obtain a token",
    "export_job": "the export:manage scope",
    "rest": "the conversations:read scope (or an API key of a user who may read conversations)",
    "odata": "the odata role (or admin) for the API key's user",
}


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429 responses
    checksum_redownloads: int = 0
    ranged_resumes: int = 0


@dataclass(frozen=True)
class Download:
    body: bytes
    headers: httpx.Headers


# Reads an open response's body; the default reads it whole.
BodyReader = Callable[[httpx.Response], Awaitable[None]]


class ApiClient:
    def __init__(self, settings: Settings, *, bucket: TokenBucket | None = None) -> None:
        self.settings = settings
        # Every request sent, token requests and a retry after a 401 included, is paced and counted.
        self.http = httpx.AsyncClient(timeout=settings.cognigy.timeout_seconds,
                                      headers={"Accept": "application/json"}, event_hooks={"request": [self._pace]})
        self.auth: CognigyAuth = authenticator(settings, self)
        self.bucket = bucket or TokenBucket.for_limit(settings.cognigy.rate_limit_requests,
                                                      settings.cognigy.rate_limit_period_seconds)
        self.slots = asyncio.Semaphore(settings.cognigy.max_concurrency)
        self.retry_policy = RetryPolicy.of(settings)
        self.stats = FetchStats()
        self._setting_secrets = settings.secret_values()

    async def close(self) -> None:
        await self.http.aclose()

    def redact(self, text: str) -> str:
        for secret in [*self._setting_secrets, *self.auth.secrets()]:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    async def request(self, method: str, url: str, *, surface: Surface, params: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None, data: dict[str, str] | None = None, json: Any = None,
                      passthrough: frozenset[int] = frozenset()) -> httpx.Response:
        """Send with retries; statuses in `passthrough` come back to the caller instead of raising."""
        return await self._retrying(lambda: self._attempt(method, url, surface, params, headers, data, json,
                                                          passthrough, None), method, url)

    async def download(self, url: str, *, surface: Surface, headers: dict[str, str] | None = None) -> Download:
        """GET a body that may arrive in pieces: a connection cut mid-body resumes with `Range` from the
        bytes already here (if the server accepts ranges); a 416 whose length equals them means the body is
        complete (only the end of the response was lost)."""
        body = bytearray()
        got: list[httpx.Headers] = []

        async def read(response: httpx.Response) -> None:
            if response.status_code == 416:
                total = _range_total(response.headers.get("Content-Range"))
                if total != len(body):  # not "you have it all": our bytes are wrong, start over
                    body.clear()
                    raise TransientSourceError(f"GET {response.url.path}: 416 for a range at {total} bytes",
                                               status=416)
                got.append(response.headers)
                return
            if response.status_code == 206:
                start = _range_start(response.headers.get("Content-Range"))
                if start != len(body):
                    body.clear()
                    raise TransientSourceError(f"GET {response.url.path}: 206 from byte {start}, wanted "
                                               f"{len(body)}", status=206)
                self.stats.ranged_resumes += 1
            else:
                body.clear()
            got.append(response.headers)
            try:
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
            except httpx.TransportError as exc:
                ranged = response.headers.get("Accept-Ranges") == "bytes"
                whole = _range_total(response.headers.get("Content-Range")) or _length(response)
                cut = f"GET {response.url.path}: {cut_off(len(body), whole)} ({type(exc).__name__})"
                if not ranged:
                    body.clear()
                raise TransientSourceError(f"{cut}{'; resuming from there' if ranged else ''}") from None

        def ranged_headers() -> dict[str, str]:
            return {**(headers or {}), **({"Range": f"bytes={len(body)}-"} if body else {})}

        await self._retrying(lambda: self._attempt("GET", url, surface, None, ranged_headers(), None, None,
                                                   frozenset(), read), "GET", url)
        return Download(bytes(body), got[-1])

    async def _retrying(self, attempt: Callable[[], Awaitable[httpx.Response]], method: str,
                        url: str) -> httpx.Response:
        patience = Patience(self.retry_policy)
        retrying = AsyncRetrying(
            stop=patience.stop,
            wait=patience.wait,
            retry=retry_if_exception_type((TransientSourceError, httpx.TransportError)),
            before_sleep=lambda state: self._before_retry(state, f"{method} {httpx.URL(url).path}"),
            reraise=True,
        )
        try:
            async for step in retrying:
                with step:
                    return await attempt()
        except TransientSourceError as exc:
            raise SourceError(f"{exc.message}; {patience.gave_up(exc)}", details=exc.details) from None
        except httpx.TransportError as exc:
            path = httpx.URL(url).path
            raise SourceError(f"{method} {path}: cannot reach Cognigy ({type(exc).__name__}: "
                              f"{self.redact(str(exc))}); {patience.gave_up(exc)}") from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _before_retry(self, state: RetryCallState, what: str) -> None:
        self.stats.retries += 1
        wait = state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        metrics.SOURCE_RETRIES.labels(str(exc.status) if isinstance(exc, TransientSourceError) else "network").inc()
        if throttled(exc):
            self.bucket.pause(wait)  # the whole tenant is over its limit, not just this request
        reason = exc.message if isinstance(exc, TransientSourceError) else f"{what}: {type(exc).__name__}"
        log.warning("%s; retry %d in %.1f s", self.redact(reason), state.attempt_number, wait)

    async def _attempt(self, method: str, url: str, surface: Surface, params: dict[str, str] | None,
                       headers: dict[str, str] | None, data: dict[str, str] | None, json: Any,
                       passthrough: frozenset[int], reader: BodyReader | None) -> httpx.Response:
        # Token requests take no slot: the requests holding the slots may be waiting for that very token.
        async with self.slots if surface != "token" else contextlib.nullcontext():
            request = self.http.build_request(method, with_query(url, params or {}), headers=headers, data=data,
                                              json=json, extensions={SURFACE: surface})
            response = await self.http.send(request, auth=None if surface == "token" else self.auth, stream=True)
            try:
                if reader is not None and response.status_code in (200, 206, 416):
                    await reader(response)
                else:
                    await response.aread()
            finally:
                await response.aclose()
        return self._checked(response, surface, passthrough)

    async def _pace(self, request: httpx.Request) -> None:
        await self.bucket.acquire()
        self.stats.requests += 1

    def _checked(self, response: httpx.Response, surface: Surface, passthrough: frozenset[int]) -> httpx.Response:
        status = response.status_code
        if status < 400 or status in passthrough or status == 416:
            return response
        what = f"{response.request.method} {response.url.path}"
        detail = self.redact(describe(response))
        if status == 429:
            self.stats.throttled += 1
            metrics.SOURCE_THROTTLED.inc()
        if status in RETRYABLE_STATUS:
            raise TransientSourceError(f"{what}: {status} {detail}", status=status,
                                       retry_after=retry_after(response))
        if status == 401:
            after = " after a token refresh" if response.history else ""  # the flow's refresh answered 401 again
            raise AuthenticationFailed(f"{what}: Cognigy refused the {self.auth.method} credentials (401){after}: "
                                       f"{detail}; check {self.auth.hint}")
        if status == 403:
            raise PermissionDenied(f"{what}: forbidden (403): {detail}; the {self.auth.method} credentials need "
                                   f"{REQUIRED_GRANT[surface]}")
        if status == 413 or "quota" in detail.lower():
            raise QuotaExceeded(f"{what}: storage quota exceeded ({status}): {detail}")
        raise SourceError(f"{what} failed ({status}): {detail}", details={"status": status})


def with_query(url: str, params: dict[str, str]) -> str:
    """The query written out by hand: httpx would encode OData's `$filter` as `%24filter`, which OData
    servers reject, and would drop a query already in the URL."""
    if not params:
        return url
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=QUERY_SAFE)}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def cut_off(arrived: int, expected: int | None) -> str:
    """What arrived of a body whose connection dropped mid-transfer."""
    if not arrived:
        return "body cut off before any of it arrived"
    of = f" of {expected}" if expected else ""
    return f"body cut off after {arrived}{of} bytes"


def _length(response: httpx.Response) -> int | None:
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _range_total(content_range: str | None) -> int | None:
    """`bytes */1234` or `bytes 0-99/1234` -> 1234."""
    if not content_range or "/" not in content_range:
        return None
    total = content_range.rsplit("/", 1)[1]
    return int(total) if total.isdigit() else None


def _range_start(content_range: str | None) -> int | None:
    """`bytes 100-1233/1234` -> 100."""
    if not content_range:
        return None
    first = content_range.removeprefix("bytes ").split("-", 1)[0]
    return int(first) if first.isdigit() else None
