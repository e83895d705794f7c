"""Standard Webhooks: endpoints and their secrets, events, signing, and one delivery attempt.

Every event has a deterministic `webhook-id` (from export id and event), so a resend after a crash carries
the same id and receivers deduplicate. Each attempt is signed afresh (`webhook-timestamp` is the send time;
receivers reject old ones) with every secret of its endpoint: during a rotation, `webhook-signature` holds
one `v1,...` per secret, and a receiver that knows either accepts it. Failed attempts back off
exponentially with jitter, honour Retry-After (both as the fetcher does: shared/http_retry.py), and stop after
`CA_WEBHOOK_MAX_ATTEMPTS`; 410 Gone disables the endpoint; 3xx is a failure (no redirects are followed).

An endpoint cannot hold an attempt open: each has one deadline, connect to last byte (`CA_WEBHOOK_TIMEOUT_SECONDS`;
httpx's timeouts are per read, so a server sending a byte every few seconds would never trip them), and at most
MAX_ANSWER_BYTES of the answer are read (only its status and Retry-After count; the rest is not read at all).
Endpoint URLs are checked at start: https, or http to this host only (the demo's and the tests' receivers).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from shared.errors import ConfigError
from shared.http_retry import backoff, retry_after
from shared.settings import Settings, comma_list, redact_url
from shared.telemetry import metrics
from stages.notifier.changelog import WebhookDelivery
from stages.notifier.messages import DeliveryOutcome, DeliveryState

COMPLETED_EVENT = "archival.completed"
STATUS_EVENT = "export.status"
EVENT_TYPES = (COMPLETED_EVENT, STATUS_EVENT)
BACKOFF_FACTOR = 5  # with the 5 s default: 5 s, 25 s, 2 min, 10 min, 52 min, 4.3 h, then the 10 h cap
JITTER = (0.8, 1.2)
MAX_ANSWER_BYTES = 64 * 1024
MIN_SECRET_BYTES = 24  # the Standard Webhooks spec: secrets of 24 to 64 random bytes


def webhook_id(export_id: str, event: str) -> str:
    return "msg_" + hashlib.sha256(f"{export_id}:{event}".encode()).hexdigest()[:32]


def endpoint_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Endpoint:
    url: str
    signers: tuple[Webhook, ...]

    def signature(self, msg_id: str, at: datetime, body: str) -> str:
        return " ".join(s.sign(msg_id, at, body) for s in self.signers)


def endpoints(settings: Settings) -> list[Endpoint]:
    """`CA_WEBHOOK_URLS` with `CA_WEBHOOK_SECRET`: one secret per URL, in the same order, comma-separated;
    an entry of two secrets separated by a space signs with both (rotation)."""
    urls = settings.webhooks.url_list
    listed = settings.webhooks.secret.reveal()
    entries = [e.split() for e in listed.split(",")] if listed.strip() else []
    if len(entries) != len(urls):
        raise ConfigError(f"CA_WEBHOOK_SECRET has {len(entries)} entries for {len(urls)} CA_WEBHOOK_URLS: "
                          "give one secret per endpoint, in the same order")
    out = []
    for number, (url, secrets) in enumerate(zip(urls, entries, strict=True), start=1):
        check_url(number, url)
        if not secrets or len(secrets) > 2:
            raise ConfigError(f"CA_WEBHOOK_SECRET entry {number}: give one secret, or two during a rotation")
        out.append(Endpoint(url, tuple(_signer(number, s) for s in secrets)))
    return out


def check_url(number: int, url: str) -> None:
    """An endpoint the notifier can and may post to: https, or plain http to this host (nothing leaves it)."""
    where = f"CA_WEBHOOK_URLS entry {number} ({redact_url(url)})"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{where}: not a valid URL") from None
    if not host:
        raise ConfigError(f"{where}: no host; give an https:// URL")
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return
    raise ConfigError(f"{where}: give an https:// URL (plain http only to 127.0.0.1, ::1 or localhost)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _signer(number: int, secret: str) -> Webhook:
    # The library's messages may quote the secret: errors name the entry only.
    problem = f"CA_WEBHOOK_SECRET entry {number}: not a valid whsec_... secret"
    try:
        key = base64.b64decode(secret.removeprefix("whsec_") + "==")
        signer = Webhook(secret)
    except Exception:
        raise ConfigError(problem) from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(f"CA_WEBHOOK_SECRET entry {number}: {len(key)} bytes long; a secret needs at least "
                          f"{MIN_SECRET_BYTES} (whsec_ and the base64 of 32 random bytes)")
    return signer


def subscribed_events(settings: Settings) -> tuple[str, ...]:
    wanted = tuple(comma_list(settings.webhooks.events)) or EVENT_TYPES
    unknown = sorted(set(wanted) - set(EVENT_TYPES))
    if unknown:
        raise ConfigError(f"CA_WEBHOOK_EVENTS: unknown event type(s) {unknown}; known: {', '.join(EVENT_TYPES)}")
    return wanted


def event_body(event_type: str, at: datetime, data: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "timestamp": at.isoformat(), "data": data},
                      separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    attempt_seconds: float  # one attempt's deadline, connect to last byte

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.webhooks.max_attempts, settings.webhooks.retry_base_seconds,
                   settings.webhooks.retry_max_seconds, settings.webhooks.timeout_seconds)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt`."""
        if retry_after is not None:
            return min(retry_after, self.max_seconds)
        return backoff(attempt, self.base_seconds, BACKOFF_FACTOR, self.max_seconds, JITTER)


async def attempt(http: httpx.AsyncClient, endpoint: Endpoint, export_id: str, delivery: WebhookDelivery,
                  policy: RetryPolicy, now: datetime) -> DeliveryOutcome:
    """Send one attempt of `delivery` and say what it came to."""
    number = delivery.attempts + 1
    body = delivery.body.decode()
    headers = {"content-type": "application/json", "webhook-id": delivery.msg_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": endpoint.signature(delivery.msg_id, now, body)}
    status: int | None = None
    asked = None  # the endpoint's Retry-After
    try:
        async with asyncio.timeout(policy.attempt_seconds):
            status, detail, asked = await _post(http, endpoint.url, body, headers)
    except TimeoutError:
        detail = f"no whole answer within {policy.attempt_seconds:g}s"
    except httpx.HTTPError as exc:
        detail = type(exc).__name__
    state: DeliveryState = "pending"
    next_at = now
    if status is not None and 200 <= status < 300:
        state = "delivered"
    elif status == 410:
        state, detail = "abandoned", "HTTP 410 Gone: endpoint disabled"
    elif number >= policy.max_attempts:
        state, detail = "abandoned", f"{detail} after {number} attempts"
    else:
        next_at = now + timedelta(seconds=policy.delay(number, asked))
    metrics.WEBHOOK_ATTEMPTS.labels("success" if state == "delivered" else "gone" if status == 410
                                    else "failed_final" if state == "abandoned" else "failed_retrying").inc()
    return DeliveryOutcome(export_id=export_id, msg_id=delivery.msg_id, url=delivery.url, attempt=number,
                           state=state, status=status, detail=detail, next_attempt_at=next_at,
                           disable_endpoint=status == 410)


async def _post(http: httpx.AsyncClient, url: str, body: str, headers: dict[str, str],
                ) -> tuple[int, str, float | None]:
    """Status, detail and Retry-After of one POST, reading no more than MAX_ANSWER_BYTES of the answer (raw:
    a compressed answer is not inflated). Leaving the stream unread closes its connection."""
    async with http.stream("POST", url, content=body, headers=headers) as response:
        detail = f"HTTP {response.status_code}"
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > MAX_ANSWER_BYTES:
                detail += f" (answer over {MAX_ANSWER_BYTES // 1024} KiB: the rest not read)"
                break
        return response.status_code, detail, retry_after(response)
