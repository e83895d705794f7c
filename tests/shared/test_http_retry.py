"""When to retry an HTTP request (shared/http_retry.py): `Retry-After` in both of its forms, and the
exponential backoff the fetcher and the webhooks share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from shared.http_retry import backoff, retry_after


def response_with(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after(response_with({"Retry-After": "7"})) == 7.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    dated = {"Retry-After": format_datetime(now + timedelta(seconds=30), usegmt=True),
             "Date": format_datetime(now, usegmt=True)}
    assert retry_after(response_with(dated)) == 30.0  # measured against the server's clock, not ours
    assert retry_after(response_with({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0  # in the past
    assert retry_after(response_with({"Retry-After": "soon"})) is None
    assert retry_after(response_with({})) is None


def test_backoff_grows_by_its_factor_up_to_the_cap_spread_across_its_jitter() -> None:
    for failures, nominal in [(1, 5), (2, 25), (3, 125), (6, 15_625), (7, 36_000), (40, 36_000)]:
        waits = [backoff(failures, 5, 5, 36_000, (0.8, 1.2)) for _ in range(200)]
        assert 0.8 * nominal <= min(waits) < 0.85 * nominal
        assert 1.15 * nominal < max(waits) <= 1.2 * nominal


def test_backoff_after_more_failures_than_a_float_can_count_is_the_cap() -> None:
    assert backoff(5_000, 0.5, 2.0, 30.0, (1.0, 1.0)) == 30.0
