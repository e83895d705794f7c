"""How long one request to Cognigy keeps trying, and what ran out when it stops.

A 429 is the tenant's rate limit, counted per source IP across every client there: it is waited out for as
long as the retry budget (time) lasts, however many tries that takes; for as long as `Retry-After` says, or
without one with a backoff that doubles up to the cap (by default a tenth of Cognigy's documented 5-minute
window), each wait at least half its nominal length so the tries spread across the window. Other transient
errors (408, 5xx, network) are worth a few tries only: at most `max_attempts`, with full jitter, within the
same budget. The last wait is cut to what is left of the budget, so the final try lands at its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tenacity import RetryCallState

from shared.http_retry import backoff
from shared.settings import Settings
from stages.fetcher.errors import TransientSourceError

FIRST_BACKOFF_SECONDS = 0.5
Exhausted = Literal["", "attempts", "budget", "retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # tries of a request failing other than with 429
    budget_seconds: float  # from its first try to its last, whatever failed
    backoff_cap_seconds: float
    rate_limit_requests: int  # the tenant's documented limit, named when it is what held
    rate_limit_period_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.cognigy.max_attempts, settings.cognigy.retry_budget_seconds,
                   settings.cognigy.backoff_cap_seconds, settings.cognigy.rate_limit_requests,
                   settings.cognigy.rate_limit_period_seconds)


def throttled(exc: BaseException | None) -> bool:
    return isinstance(exc, TransientSourceError) and exc.status == 429


class Patience:
    """One request's retries, as tenacity's `wait` and `stop`: counts what failed, and says what ran out."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0  # other than 429
        self.throttled = 0  # 429s
        self.elapsed = 0.0
        self.exhausted: Exhausted = ""

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        self.elapsed = state.seconds_since_start or 0.0
        left = max(0.0, self.policy.budget_seconds - self.elapsed)
        if throttled(exc):
            self.throttled += 1
        else:
            self.failures += 1
        if isinstance(exc, TransientSourceError) and exc.retry_after is not None:
            return exc.retry_after  # as the server said: `stop` refuses it if it does not fit the budget
        tries = self.throttled if throttled(exc) else self.failures
        jitter = (0.5, 1.0) if throttled(exc) else (0.0, 1.0)  # 429: equal jitter, so the waits do grow
        return min(left, backoff(tries, FIRST_BACKOFF_SECONDS, 2.0, self.policy.backoff_cap_seconds, jitter))

    def stop(self, state: RetryCallState) -> bool:
        left = self.policy.budget_seconds - self.elapsed
        if self.failures >= self.policy.max_attempts:
            self.exhausted = "attempts"
        elif left <= 0:
            self.exhausted = "budget"
        elif state.upcoming_sleep > left:
            self.exhausted = "retry_after"
        return bool(self.exhausted)

    def gave_up(self, exc: BaseException) -> str:
        """Why the request was given up: the attempts, the time budget or a server's wait past it; for a 429,
        the limit that was hit."""
        policy = self.policy
        budget = f"the retry budget of {policy.budget_seconds:g} s (CA_COGNIGY_RETRY_BUDGET_SECONDS)"
        if self.exhausted == "attempts":
            return f"gave up after {self.failures} attempts (CA_COGNIGY_MAX_ATTEMPTS)"
        if self.exhausted == "retry_after":
            asked = exc.retry_after if isinstance(exc, TransientSourceError) else None
            return (f"gave up: Cognigy asked to wait {asked or 0:.0f} s (Retry-After), longer than what is left of "
                    f"{budget} after {self.elapsed:.0f} s{self._limit(exc)}")
        tries = self.failures + self.throttled
        return f"gave up: {budget} ran out after {tries} attempts in {self.elapsed:.0f} s{self._limit(exc)}"

    def _limit(self, exc: BaseException) -> str:
        if not throttled(exc):
            return ""
        policy = self.policy
        text = (f"; Cognigy's rate limit was hit: {self.throttled} answers were 429; the tenant allows "
                f"{policy.rate_limit_requests} requests per {policy.rate_limit_period_seconds:g} s per source IP, "
                "counted across every client on that IP")
        if policy.budget_seconds < policy.rate_limit_period_seconds:
            text += "; a budget shorter than that window may end before the limit frees up"
        return text
