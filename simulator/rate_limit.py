"""A sliding-window request limit per client, the way Cognigy limits per source IP."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self, limit: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int | None:
        """Record a request from `client`; None if allowed, else whole seconds until one would be.

        Refused requests are not recorded, so a client that keeps retrying is let in once its oldest
        counted request leaves the window.
        """
        now = self._clock()
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - self.window_seconds:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return None
        return max(1, math.ceil(hits[0] + self.window_seconds - now))
