"""Real HTTP webhook receivers for the notifier's tests: each answers from a script of status codes and
checks every request the way the Standard Webhooks spec tells a receiver to, written out here rather than
with the library the notifier signs with."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from shared.settings import Secret, Settings, WebhookSettings

TOLERANCE_SECONDS = 300


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of Standard Webhooks: HMAC-SHA256 over `id.timestamp.body` with the base64 key
    after `whsec_`, any of the space-separated `v1,` signatures, a constant-time compare, and a timestamp
    no more than five minutes away."""
    msg_id, stamp, signatures = (headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp.isdigit() and abs(time.time() - int(stamp)) <= TOLERANCE_SECONDS):
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    return any(version == "v1" and hmac.compare_digest(sig.encode(), expected)
               for version, _, sig in (s.partition(",") for s in signatures.split()))


@dataclass
class Received:
    msg_id: str
    event_type: str
    status: int
    verified: bool
    at: float
    body: dict[str, Any]


@dataclass
class Receiver:
    """Answers each request with the next status of `script` (the last one repeats); `hang` seconds of
    silence first imitate an endpoint that never answers."""

    secret: str
    script: list[int] = field(default_factory=lambda: [204])
    retry_after: str | None = None
    hang: float = 0.0
    requests: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    def accepted(self, event_type: str | None = None) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300 and r.verified
                and (event_type is None or r.event_type == event_type)]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.hang:
            await asyncio.sleep(self.hang)
        status = self.script[min(len(self.requests), len(self.script) - 1)]
        parsed = json.loads(body)
        self.requests.append(Received(request.headers.get("webhook-id", ""), parsed.get("type", ""), status,
                                      verify_standard_webhook(self.secret, dict(request.headers), body),
                                      time.monotonic(), parsed))
        headers = {"Retry-After": self.retry_after} if self.retry_after and status >= 400 else {}
        if 300 <= status < 400:
            headers["Location"] = self.url + "/elsewhere"
        return web.Response(status=status, headers=headers)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        app.router.add_post("/hook/elsewhere", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_settings(urls: str, secrets: str) -> Settings:
    """Settings with these `CA_WEBHOOK_URLS` and `CA_WEBHOOK_SECRET`."""
    return Settings(webhooks=WebhookSettings(urls=urls, secret=Secret(secrets)))


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    """Start receivers with `await started(...)`; all are stopped after the test."""
    started: list[Receiver] = []
    yield started
    for r in started:
        await r.stop()


async def start(registry: list[Receiver], **kwargs: Any) -> Receiver:
    receiver = Receiver(secret=kwargs.pop("secret", None) or new_secret(), **kwargs)
    await receiver.start()
    registry.append(receiver)
    return receiver
