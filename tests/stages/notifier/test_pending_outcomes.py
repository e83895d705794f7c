"""Delivery outcomes left on `notifier.deliveries` when the notifier stopped: the notifier that starts next
restores the state, applies them in its loop, and sends nothing again (real broker, real receiver)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from shared.kafka.clients import plain_producer
from shared.kafka.tables import read_table
from shared.kafka.topics import NOTIFIER_STATE
from shared.settings import Settings
from stages.archiver import stage as archiver
from stages.notifier import stage as notifier
from stages.notifier.changelog import ChangelogEntry, NotifierState, WebhookDelivery
from stages.notifier.deliveries import DeliveryWorker, outcome_sender
from stages.notifier.webhooks import RetryPolicy, endpoints
from tests.stages.notifier.test_notifier import audit_actions, configured, running, submit, until
from tests.stages.notifier.webhook_receivers import Receiver, start

EXPORT = "exp-pending"


async def delivery(settings: Settings) -> WebhookDelivery | None:
    """The export's one delivery, as the committed changelog has it."""
    state = (await read_table(settings, settings.kafka.topic(NOTIFIER_STATE), ChangelogEntry)).get(EXPORT.encode())
    if state is None:
        return None
    assert isinstance(state, NotifierState) and len(state.deliveries) == 1, state
    return state.deliveries[0]


async def committed_delivery(settings: Settings, attempts: int, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while (found := await delivery(settings)) is None or found.attempts != attempts:
        assert time.monotonic() < deadline, f"the changelog never showed attempt {attempts}: {found}"
        await asyncio.sleep(0.2)
    return found


async def deliver_while_the_loop_is_down(settings: Settings, pending: WebhookDelivery, receiver: Receiver) -> None:
    """What the notifier's worker does before a crash takes its loop: the attempt (due now), and its outcome
    on notifier.deliveries, through the notifier's own worker and sender."""
    producer = plain_producer(settings)
    await producer.start()
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as http:
        worker = DeliveryWorker(endpoints(settings), RetryPolicy.from_settings(settings), http,
                                outcome_sender(settings, producer))
        task = asyncio.create_task(worker.run(stop))
        try:
            worker.schedule(EXPORT, [msgspec.structs.replace(pending, next_attempt_at=datetime.now(UTC))])
            await until(lambda: len(receiver.requests) == 2 and not worker.pending and not worker.in_flight, 30,
                        "the second attempt and its outcome")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await producer.stop()


async def test_outcomes_pending_on_their_topic_are_applied_after_a_restart(
        topics: Settings, receivers: list[Receiver], caplog: pytest.LogCaptureFixture) -> None:
    # The first attempt fails and asks for an hour's pause: the state keeps the delivery pending, not due.
    receiver = await start(receivers, script=[503, 204], retry_after="3600")
    settings = configured(topics, receiver, events="archival.completed")
    await submit(settings, EXPORT, 2)
    async with running(settings, archiver.run, notifier.run):
        await until(lambda: len(receiver.requests) == 1, 60, "the first attempt")
        pending = await committed_delivery(settings, attempts=1)
    assert pending.state == "pending" and pending.next_attempt_at > datetime.now(UTC)

    # The next attempt is delivered and its outcome written, but no loop of the notifier applies it.
    await deliver_while_the_loop_is_down(settings, pending, receiver)
    assert (await committed_delivery(settings, attempts=1)) == pending
    assert ("webhook delivered", EXPORT) not in audit_actions(settings)

    # The notifier that starts next restores the pending delivery (not due for an hour: not attempted) and
    # applies the outcome waiting on its topic.
    with caplog.at_level(logging.INFO):
        async with running(settings, notifier.run):
            delivered = await committed_delivery(settings, attempts=2)
            await asyncio.sleep(2)  # time for a wrong resend to show
    assert "restored 1 exports" in caplog.text
    assert "changelog behind the committed input" not in caplog.text
    assert (delivered.state, delivered.last_status) == ("delivered", 204)
    assert len(receiver.requests) == 2 and {r.msg_id for r in receiver.requests} == {pending.msg_id}
    assert len(receiver.accepted()) == 1

    # Applied once: another restart reads it as committed, sends nothing and audits nothing again.
    async with running(settings, notifier.run):
        await asyncio.sleep(3)
    assert len(receiver.requests) == 2
    assert audit_actions(settings) == [("export archived", EXPORT), ("webhook delivered", EXPORT)]
