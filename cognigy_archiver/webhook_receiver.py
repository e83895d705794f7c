"""A webhook receiver that checks Standard Webhooks signatures and deduplicates by `webhook-id`, as a
well-behaved receiver does. The demo and the end-to-end tests use it to see what the notifier sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    msg_id: str
    verified: bool
    payload: dict[str, Any] | None


@dataclass
class WebhookReceiver:
    secret: str
    deliveries: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    @property
    def unique_events(self) -> dict[str, dict[str, Any]]:
        return {d.msg_id: d.payload for d in self.deliveries if d.verified and d.payload is not None}

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        msg_id = request.headers.get("webhook-id", "")
        try:
            Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.deliveries.append(Received(msg_id, False, None))
            return web.Response(status=400, text="bad signature")
        self.deliveries.append(Received(msg_id, True, json.loads(body)))
        return web.Response(status=204)

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
