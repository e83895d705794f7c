"""Request-level faults, in arrival order: 429 bursts (with or without Retry-After), 5xx, slow answers; and
the latency every answer has."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.auth import SIM_PREFIX
from simulator.problems import problem
from simulator.state import STATE


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(SIM_PREFIX):
        return await handler(request)
    state = request.app[STATE]
    faults = state.config.faults
    state.api_requests += 1
    n = state.api_requests
    if faults.throttle_every and n % faults.throttle_every == 0:
        state.throttle_left = faults.throttle_burst
    if state.throttle_left > 0:
        state.throttle_left -= 1
        return throttled(request, faults.retry_after_seconds, faults.retry_after)
    if faults.error_every and n % faults.error_every == 0:
        return problem(faults.error_status, faults.error_status, "simulated server error", request.path)
    if faults.slow_every and n % faults.slow_every == 0:
        await asyncio.sleep(faults.slow_seconds)
    await asyncio.sleep(state.config.request_delay_seconds)  # a tenant's latency, on every answer
    return await handler(request)


def throttled(request: web.Request, seconds: int, style: str) -> web.Response:
    """A 429 in Cognigy's error format; `Retry-After` as seconds, as an HTTP date, or absent."""
    state = request.app[STATE]
    state.rate_limited += 1
    headers: dict[str, str] = {}
    if style == "seconds":
        headers["Retry-After"] = str(seconds)
    elif style == "date":
        now = datetime.now(UTC)
        headers["Date"] = format_datetime(now, usegmt=True)
        headers["Retry-After"] = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    return problem(429, 429, f"too many requests; retry in {seconds} s", request.path, headers=headers)
