"""When to try an HTTP request again, for every client here (the fetcher's requests to Cognigy, the
notifier's webhook deliveries): the server's `Retry-After`, or an exponential backoff with jitter.

The fetcher waits in memory (tenacity); a webhook's next attempt is a time kept in the notifier's state, so it
outlives a restart: both take their waits from here."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

import httpx


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds, or an HTTP date measured against the response's
    own `Date` (immune to our clock being off), else against ours."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value).timestamp()
        now_header = response.headers.get("Date")
        now = parsedate_to_datetime(now_header).timestamp() if now_header else time.time()
    except (TypeError, ValueError):
        return None
    return max(0.0, until - now)


def backoff(failures: int, first: float, factor: float, cap: float, jitter: tuple[float, float]) -> float:
    """The wait after `failures` failed tries in a row: `first` x `factor`^(failures - 1), at most `cap`,
    times a random factor between the two of `jitter`, so clients that failed together do not retry
    together."""
    try:
        nominal = min(cap, first * factor ** (failures - 1))
    except OverflowError:  # a long run of failures: the cap was passed long ago
        nominal = cap
    return nominal * random.uniform(*jitter)
