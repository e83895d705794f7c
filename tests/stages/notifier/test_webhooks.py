"""Webhook delivery against real HTTP receivers: retries until accepted with one event id, signatures a
Standard Webhooks receiver accepts (also during a secret rotation), Retry-After, 410, redirects, and a
dead endpoint that delays nothing but itself."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks import Webhook

from shared.errors import ConfigError
from stages.notifier.changelog import WebhookDelivery
from stages.notifier.deliveries import DeliveryWorker
from stages.notifier.messages import DeliveryOutcome
from stages.notifier.webhooks import Endpoint, RetryPolicy, endpoints, event_body, webhook_id
from tests.stages.notifier.webhook_receivers import Receiver, new_secret, start, webhook_settings

FAST = RetryPolicy(max_attempts=5, base_seconds=0.05, max_seconds=2.0, attempt_seconds=15.0)


def delivery(url: str, export_id: str = "exp-1") -> WebhookDelivery:
    now = datetime.now(UTC)
    return WebhookDelivery(msg_id=webhook_id(export_id, "archival.completed"), event_type="archival.completed",
                           url=url, body=event_body("archival.completed", now, {"export_id": export_id}),
                           next_attempt_at=now)


class Worker:
    """A DeliveryWorker running in the background, with its outcomes collected."""

    def __init__(self, targets: list[Endpoint], policy: RetryPolicy = FAST, timeout: float = 5.0) -> None:
        self.outcomes: list[DeliveryOutcome] = []
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.worker = DeliveryWorker(targets, policy, self.http, self.record)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.worker.run(self.stop))

    async def record(self, outcome: DeliveryOutcome) -> None:
        self.outcomes.append(outcome)

    async def until(self, condition: object, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out; outcomes: {self.outcomes}"
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 5)
        await self.http.aclose()


def endpoint(receiver: Receiver, *secrets: str) -> Endpoint:
    return Endpoint(receiver.url, tuple(Webhook(s) for s in secrets or (receiver.secret,)))


async def deliver_until_accepted(receiver: Receiver) -> Worker:
    worker = Worker([endpoint(receiver)])
    try:
        worker.worker.schedule("exp-1", [delivery(receiver.url)])
        await worker.until(lambda: any(o.state == "delivered" for o in worker.outcomes))
    finally:
        await worker.close()
    return worker


async def test_a_receiver_failing_three_times_then_accepting_gets_one_event_id(receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[500, 503, 502, 204])
    worker = await deliver_until_accepted(receiver)
    assert [r.status for r in receiver.requests] == [500, 503, 502, 204]
    assert {r.msg_id for r in receiver.requests} == {webhook_id("exp-1", "archival.completed")}
    assert all(r.verified for r in receiver.requests)
    assert len(receiver.accepted()) == 1
    assert [(o.attempt, o.state) for o in worker.outcomes] == [(1, "pending"), (2, "pending"), (3, "pending"),
                                                               (4, "delivered")]
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    assert gaps[2] > gaps[0], "the delay grows with each attempt"


async def test_signatures_pass_standard_webhooks_receivers_during_a_rotation(receivers: list[Receiver]) -> None:
    old, new = new_secret(), new_secret()
    knows_new = await start(receivers, secret=new)
    knows_old = await start(receivers, secret=old)
    worker = Worker([endpoint(knows_new, new, old), endpoint(knows_old, new, old)])
    try:
        worker.worker.schedule("exp-1", [delivery(knows_new.url), delivery(knows_old.url)])
        await worker.until(lambda: len(worker.outcomes) == 2)
    finally:
        await worker.close()
    for receiver in (knows_new, knows_old):
        [received] = receiver.requests
        assert received.verified and received.status == 204  # our reading of the spec
    # ... and the reference library's, with either secret alone.
    stranger = await start(receivers, secret=new_secret())
    body = event_body("archival.completed", datetime.now(UTC), {"x": 1}).decode()
    now = datetime.now(UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Endpoint("u", (Webhook(new), Webhook(old))).signature("msg_1", now, body)}
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (new, old):
        Webhook(secret).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(stranger.secret).verify(body, headers)


async def test_retry_after_is_honoured(receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[429, 204], retry_after="1")
    await deliver_until_accepted(receiver)
    first, second = receiver.requests
    assert second.at - first.at >= 0.95  # not the 0.05 s backoff


async def test_retry_after_as_an_http_date_is_honoured(receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[503, 204],
                           retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True))
    await deliver_until_accepted(receiver)
    first, second = receiver.requests
    assert second.at - first.at >= 0.95  # the date's whole seconds away, not the 0.05 s backoff


def test_backoff_is_five_fold_from_the_base_with_jitter_up_to_the_cap_and_retry_after_wins() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=5, max_seconds=36_000, attempt_seconds=10)  # the defaults
    for attempt, nominal in [(1, 5), (2, 25), (3, 125), (4, 625), (5, 3_125), (6, 15_625), (7, 36_000)]:
        assert all(0.8 * nominal <= policy.delay(attempt, None) <= 1.2 * nominal for _ in range(50))
    assert policy.delay(3, 7.0) == 7.0
    assert policy.delay(1, 100_000.0) == 36_000


async def test_410_disables_the_endpoint_for_every_later_delivery(receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[410])
    worker = Worker([endpoint(receiver)])
    try:
        worker.worker.schedule("exp-1", [delivery(receiver.url, "exp-1")])
        await worker.until(lambda: len(worker.outcomes) == 1)
        worker.worker.schedule("exp-2", [delivery(receiver.url, "exp-2")])
        await worker.until(lambda: len(worker.outcomes) == 2)
    finally:
        await worker.close()
    gone, skipped = worker.outcomes
    assert (gone.state, gone.disable_endpoint, gone.status) == ("abandoned", True, 410)
    assert (skipped.state, skipped.status, skipped.export_id) == ("abandoned", None, "exp-2")
    assert "disabled" in skipped.detail and len(receiver.requests) == 1  # nothing more was sent


async def test_redirects_are_not_followed_and_attempts_run_out(receivers: list[Receiver]) -> None:
    receiver = await start(receivers, script=[302])
    policy = RetryPolicy(max_attempts=3, base_seconds=0.02, max_seconds=1, attempt_seconds=5)
    worker = Worker([endpoint(receiver)], policy)
    try:
        worker.worker.schedule("exp-1", [delivery(receiver.url)])
        await worker.until(lambda: any(o.state == "abandoned" for o in worker.outcomes))
    finally:
        await worker.close()
    assert [r.status for r in receiver.requests] == [302, 302, 302]  # the Location was never requested
    assert worker.outcomes[-1].detail == "HTTP 302 after 3 attempts"


async def test_a_dead_endpoint_delays_nothing_but_itself(receivers: list[Receiver]) -> None:
    dead = await start(receivers, hang=30)
    live = await start(receivers)
    worker = Worker([endpoint(dead), endpoint(live)], timeout=20)
    started = time.monotonic()
    try:
        for n in range(5):
            worker.worker.schedule(f"exp-{n}", [delivery(dead.url, f"exp-{n}"), delivery(live.url, f"exp-{n}")])
        await worker.until(lambda: sum(o.state == "delivered" for o in worker.outcomes) == 5, timeout=5)
        assert time.monotonic() - started < 3 and len(live.accepted()) == 5
        assert {url for _, url in worker.worker.in_flight} == {dead.url}  # all 5 still waiting on it
        assert len(worker.worker.in_flight) == 5 and dead.requests == []
    finally:
        await worker.close()


def test_each_endpoint_needs_its_own_valid_secret() -> None:
    secret = new_secret()
    two = webhook_settings("https://a/hook,https://b/hook", f"{secret},{new_secret()} {secret}")
    assert [len(e.signers) for e in endpoints(two)] == [1, 2]
    with pytest.raises(ConfigError, match="1 entries for 2 CA_WEBHOOK_URLS") as error:
        endpoints(webhook_settings("https://a/hook,https://b/hook", secret))
    assert secret not in str(error.value)
    with pytest.raises(ConfigError, match="entry 1: not a valid whsec_") as error:
        endpoints(webhook_settings("https://a/hook", "whsec_%%%not-base64"))
    assert "%%%" not in str(error.value)
