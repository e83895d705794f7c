"""Standard Webhooks delivery: a deterministic `webhook-id` (receivers deduplicate on it), a timestamp,
and an HMAC-SHA256 signature over `id.timestamp.body`. Retries back off exponentially with jitter and
honour Retry-After; 410 means the receiver wants no more."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

log = logging.getLogger(__name__)


def webhook_id(export_id: str, event_type: str) -> str:
    return "msg_" + hashlib.sha256(f"{export_id}:{event_type}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Delivery:
    url: str
    delivered: bool
    attempts: int
    last_status: int | None
    detail: str


class WebhookSender:
    def __init__(self, secret: str, timeout: float, max_attempts: int, base_delay: float = 0.5) -> None:
        self.signer = Webhook(secret)
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.max_attempts = max_attempts
        self.base_delay = base_delay

    async def close(self) -> None:
        await self.http.aclose()

    async def deliver(self, url: str, msg_id: str, event_type: str, data: dict[str, Any]) -> Delivery:
        now = datetime.now(UTC)
        body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signer.sign(msg_id, now, body),
        }
        status: int | None = None
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            delay = self.base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
            try:
                response = await self.http.post(url, content=body, headers=headers)
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(url, True, attempt, status, "delivered")
                detail = f"HTTP {status}"
                if status == 410:
                    return Delivery(url, False, attempt, status, "endpoint answered 410 Gone: disabled")
                retry_after = response.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    delay = float(retry_after)
            except httpx.HTTPError as exc:
                detail = f"{type(exc).__name__}"
            if attempt < self.max_attempts:
                await asyncio.sleep(delay)
        log.warning("webhook %s to %s abandoned after %d attempts: %s", msg_id, url, self.max_attempts, detail)
        return Delivery(url, False, self.max_attempts, status, detail)
