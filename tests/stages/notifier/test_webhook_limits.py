"""What one endpoint can do to the delivery worker, against real HTTP servers: a server that answers a byte at a
time holds at most its own slots and each only until the attempt's deadline, so every other endpoint is served
meanwhile; a server that answers with an endless body gets no more than the answer cap read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from stages.notifier.deliveries import PER_ENDPOINT
from stages.notifier.webhooks import MAX_ANSWER_BYTES, RetryPolicy
from tests.http_servers import serving as serving_app
from tests.stages.notifier.test_webhooks import Worker, delivery, endpoint
from tests.stages.notifier.webhook_receivers import Receiver, new_secret, start

DEADLINE = 3.0
POLICY = RetryPolicy(max_attempts=3, base_seconds=30, max_seconds=60, attempt_seconds=DEADLINE)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Receiver]:
    """A server answering POST /hook with `handler`, as a Receiver (its url and secret) for `endpoint()`."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    async with serving_app(app) as url:
        yield Receiver(secret=new_secret(), url=f"{url}/hook")


async def test_an_endpoint_answering_a_byte_at_a_time_delays_no_other(receivers: list[Receiver]) -> None:
    answered: list[float] = []

    async def trickle(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        for _ in range(200):  # a byte every 0.3 s: each read well inside httpx's 5 s timeout, for a minute
            await response.write(b"x")
            await asyncio.sleep(0.3)
        answered.append(time.monotonic())
        return response

    live = await start(receivers)
    async with serving(trickle) as slow:
        worker = Worker([endpoint(slow), endpoint(live)], POLICY, timeout=5)
        try:
            for n in range(4 * PER_ENDPOINT + 4):  # more than the old 16 shared slots
                worker.worker.schedule(f"slow-{n}", [delivery(slow.url, f"slow-{n}")])
            await asyncio.sleep(0.5)
            started = time.monotonic()
            worker.worker.schedule("exp-live", [delivery(live.url, "exp-live")])
            await worker.until(lambda: len(live.accepted()) == 1, timeout=5)
            assert time.monotonic() - started < 1.0  # not waiting for a slot the slow endpoint holds
            busy = [url for _, url in worker.worker.in_flight]
            assert busy.count(slow.url) == 4 * PER_ENDPOINT + 4  # waiting for its own slots, or holding one
            # ... and each attempt of the slow one is cut off at its deadline, not when the server is done.
            await worker.until(lambda: sum(o.url == slow.url for o in worker.outcomes) >= PER_ENDPOINT,
                               timeout=DEADLINE + 2)
        finally:
            await worker.close()
    cut = [o for o in worker.outcomes if o.url == slow.url]
    assert {(o.state, o.status, o.detail) for o in cut} == {("pending", None, "no whole answer within 3s")}
    assert answered == []


async def test_an_endless_answer_is_not_read_past_the_cap(receivers: list[Receiver]) -> None:
    sent = [0]

    async def endless(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=200, headers={"content-length": str(200 * 1024 * 1024)})
        await response.prepare(request)
        chunk = b"\0" * (1024 * 1024)
        for _ in range(200):  # 200 MB, counted as the receiver takes it
            await response.write(chunk)
            sent[0] += len(chunk)
        return response

    async with serving(endless) as huge:
        worker = Worker([endpoint(huge)], POLICY, timeout=5)
        try:
            worker.worker.schedule("exp-1", [delivery(huge.url)])
            await worker.until(lambda: len(worker.outcomes) == 1, timeout=10)
            await asyncio.sleep(0.5)  # the server writes on until its socket is closed
        finally:
            await worker.close()
    [outcome] = worker.outcomes
    assert (outcome.state, outcome.status) == ("delivered", 200)  # the status is the answer; the body is not read
    assert outcome.detail == f"HTTP 200 (answer over {MAX_ANSWER_BYTES // 1024} KiB: the rest not read)"
    assert sent[0] < 32 * 1024 * 1024, f"{sent[0]:,} bytes taken from the server"
