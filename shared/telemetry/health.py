"""The small HTTP server every stage runs for Kubernetes and Prometheus:

- `/healthz`: the poll loop went round recently (it polls at least every second, busy or idle), so the
  process is not wedged, and it is not stuck retrying one batch (a storage error that never clears, say) for
  more than STUCK_SECONDS. A stage that is merely idle with no lag is healthy.
- `/readyz`: the loop has polled the broker successfully and holds partition assignments.
- `/metrics`: Prometheus text format.

It listens on 127.0.0.1 unless told otherwise (`CA_HEALTH_HOST`): metrics are nobody else's business by default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

STALL_SECONDS = 60.0
STUCK_SECONDS = 300.0


@dataclass
class HealthState:
    last_poll: float = 0.0
    assigned: int = 0
    draining: bool = False
    stuck_seconds: float = STUCK_SECONDS
    failing_batch: object = None  # the batch the loop keeps retrying (its first offsets), while it does
    failing_since: float = 0.0
    failure: str = ""

    def polled(self, assigned: int) -> None:
        self.last_poll = time.monotonic()
        self.assigned = assigned

    def batch_failed(self, batch: object, reason: str) -> None:
        """The loop aborted `batch` (e.g. its partitions' first offsets) to retry it; no PII in `reason`."""
        if batch != self.failing_batch:
            self.failing_batch, self.failing_since = batch, time.monotonic()
        self.failure = reason

    def batch_committed(self) -> None:
        self.failing_batch = None

    def healthy(self) -> tuple[bool, str]:
        if self.last_poll == 0.0:
            return True, "starting"
        age = time.monotonic() - self.last_poll
        if age > STALL_SECONDS:
            return False, f"poll loop stalled for {age:.0f}s"
        retrying = time.monotonic() - self.failing_since
        if self.failing_batch is not None and retrying > self.stuck_seconds:
            return False, f"retrying the same batch for {retrying:.0f}s: {self.failure}"
        return True, f"last poll {age:.1f}s ago"

    def ready(self) -> tuple[bool, str]:
        if self.draining:
            return False, "draining"
        if self.last_poll == 0.0:
            return False, "not connected to Kafka yet"
        if self.assigned == 0:
            return False, "no partitions assigned"
        return self.healthy()[0], f"{self.assigned} partitions assigned"


HEALTH = HealthState()


def _answer(ok_reason: tuple[bool, str]) -> web.Response:
    ok, reason = ok_reason
    return web.json_response({"ok": ok, "reason": reason}, status=200 if ok else 503)


async def _healthz(request: web.Request) -> web.Response:
    return _answer(HEALTH.healthy())


async def _readyz(request: web.Request) -> web.Response:
    return _answer(HEALTH.ready())


async def _metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def start_health_server(port: int, host: str = "127.0.0.1") -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
