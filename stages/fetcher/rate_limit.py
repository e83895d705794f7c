"""A client-side token bucket, so a fetcher stays under the tenant's request limit instead of learning it
from 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """Holds up to `capacity` tokens, refilled at `rate` per second; each request takes one.

    `pause(seconds)` (after a 429) holds every caller until then: one throttled request stops the others
    instead of letting them run into the same wall.
    """

    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError(f"a token bucket needs capacity >= 1 and rate > 0, got {capacity} and {rate}")
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # FIFO: callers get tokens in the order they asked

    @classmethod
    def for_limit(cls, requests: int, period_seconds: float) -> TokenBucket:
        """A bucket that never sends more than `requests` in any `period_seconds` (a server's sliding window).

        In a window of length W a bucket lets through at most capacity + rate * W requests, so the burst is
        kept small (5% of the limit) and the refill rate takes the rest: steady state runs at 95% of the
        limit, and the slack absorbs jitter between our send and the server's count.
        """
        if requests < 1 or period_seconds <= 0:
            raise ValueError(f"a rate limit needs >= 1 request per positive period, got {requests}/{period_seconds}s")
        burst = max(1, requests // 20)
        refill = requests - burst if requests > burst else requests
        return cls(burst, refill / period_seconds)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                wait = max(self._paused_until - now, (1 - self._tokens) / self.rate)
                if wait <= 0:
                    self._tokens -= 1
                    return
                await asyncio.sleep(wait)
