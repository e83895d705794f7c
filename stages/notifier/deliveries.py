"""The notifier's delivery worker: sends due webhook deliveries in the background, so the notifier's loop
never waits on an endpoint, and a slow or dead endpoint delays nothing but its own deliveries: each endpoint
has its own PER_ENDPOINT slots (a slow one holds only those, each for at most its attempt deadline).

What is due comes from the notifier's state (restored from its changelog after a restart). The worker
never writes that state itself: it reports each attempt as a DeliveryOutcome on `notifier.deliveries`, which
the notifier's loop consumes with `archive.segments` and applies in a transaction like any other input. A
crash between an attempt and its outcome only repeats the attempt, with the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.kafka.topics import NOTIFIER_DELIVERIES
from shared.messages import encode
from shared.settings import Settings, redact_url
from shared.telemetry.tracing import tracer
from stages.notifier.changelog import WebhookDelivery
from stages.notifier.messages import DeliveryOutcome
from stages.notifier.webhooks import Endpoint, RetryPolicy, attempt

log = logging.getLogger(__name__)
SendOutcome = Callable[[DeliveryOutcome], Awaitable[None]]
Key = tuple[str, str]  # (msg_id, url)
PER_ENDPOINT = 4  # attempts in flight to one endpoint
IDLE_SECONDS = 1.0
OUTCOME_RETRY_SECONDS = 5.0


def outcome_sender(settings: Settings, producer: AIOKafkaProducer) -> SendOutcome:
    """How the worker reports an attempt: on `notifier.deliveries`, keyed by export id like `archive.segments`,
    so it lands on the partition number of the export's state. `producer` may be a plain idempotent one: an
    outcome applied twice changes nothing."""
    topic = settings.kafka.topic(NOTIFIER_DELIVERIES)

    async def send(outcome: DeliveryOutcome) -> None:
        await producer.send_and_wait(topic, encode(outcome), key=outcome.export_id.encode())

    return send


class DeliveryWorker:
    def __init__(self, endpoints: Iterable[Endpoint], policy: RetryPolicy, http: httpx.AsyncClient,
                 send_outcome: SendOutcome) -> None:
        self.endpoints = {e.url: e for e in endpoints}
        self.policy = policy
        self.http = http
        self.send_outcome = send_outcome
        self.pending: dict[Key, tuple[str, WebhookDelivery]] = {}
        self.disabled: set[str] = set()
        self.in_flight: set[Key] = set()
        self.finished: dict[Key, str] = {}  # delivered or given up here (-> export id); the state may not say so yet
        self.tasks: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        self.slots = {url: asyncio.Semaphore(PER_ENDPOINT) for url in self.endpoints}

    def schedule(self, export_id: str, deliveries: Iterable[WebhookDelivery]) -> None:
        """Take the state's word on these deliveries, unless this worker is ahead of it: the state learns
        of an attempt only when its outcome has gone round through Kafka."""
        for d in deliveries:
            key = (d.msg_id, d.url)
            if d.state != "pending":
                self.pending.pop(key, None)
                self.finished.pop(key, None)
                continue
            known = self.pending.get(key)
            if key not in self.finished and (known is None or d.attempts > known[1].attempts):
                self.pending[key] = (export_id, d)
        self.wake.set()

    def keep_only(self, export_ids: set[str]) -> None:
        """After a rebalance: forget deliveries of exports another replica owns now."""
        self._keep(lambda export_id: export_id in export_ids)

    def forget(self, export_ids: set[str]) -> None:
        """After a retried batch: the state of these exports is back to what was committed, which may not know
        of attempts made here meanwhile (an outcome the retry took before the input that makes its delivery
        again finds nothing to apply to): the state's word counts again, and such an attempt is repeated,
        with the same webhook-id."""
        self._keep(lambda export_id: export_id not in export_ids)

    def _keep(self, keep: Callable[[str], bool]) -> None:
        self.pending = {k: v for k, v in self.pending.items() if keep(v[0])}
        self.finished = {k: e for k, e in self.finished.items() if keep(e)}

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                now = datetime.now(UTC)
                for key, (export_id, delivery) in list(self.pending.items()):
                    if key not in self.in_flight and delivery.next_attempt_at <= now:
                        self.in_flight.add(key)
                        task = asyncio.create_task(self._deliver(key, export_id, delivery))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                self.wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self._seconds_to_next_due())
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def _seconds_to_next_due(self) -> float:
        waiting = [d.next_attempt_at for k, (_, d) in self.pending.items() if k not in self.in_flight]
        if not waiting:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.0, (min(waiting) - datetime.now(UTC)).total_seconds()))

    async def _deliver(self, key: Key, export_id: str, delivery: WebhookDelivery) -> None:
        try:
            async with self._slot(delivery.url):
                outcome = await self._attempt(export_id, delivery)
            try:
                await self.send_outcome(outcome)
            except KafkaError as exc:  # Kafka unreachable: the attempt is repeated later, same webhook-id
                log.warning("could not record the outcome of %s: %s", delivery.msg_id, type(exc).__name__)
                outcome = msgspec.structs.replace(outcome, state="pending", attempt=delivery.attempts,
                                                  next_attempt_at=datetime.now(UTC))
                await asyncio.sleep(OUTCOME_RETRY_SECONDS)
            self._advance(key, export_id, delivery, outcome)
        finally:
            self.in_flight.discard(key)
            self.wake.set()

    def _slot(self, url: str) -> contextlib.AbstractAsyncContextManager[Any]:
        # An endpoint no longer configured gets no request (the attempt gives it up), so it needs no slot.
        slot = self.slots.get(url)
        return slot if slot is not None else contextlib.nullcontext()

    async def _attempt(self, export_id: str, delivery: WebhookDelivery) -> DeliveryOutcome:
        now = datetime.now(UTC)
        endpoint = self.endpoints.get(delivery.url)
        if delivery.url in self.disabled or endpoint is None:
            why = "endpoint disabled (it answered 410 Gone)" if endpoint else "endpoint no longer configured"
            return DeliveryOutcome(export_id=export_id, msg_id=delivery.msg_id, url=delivery.url,
                                   attempt=delivery.attempts + 1, state="abandoned", status=None, detail=why,
                                   next_attempt_at=now)
        with tracer().start_as_current_span("webhook delivery") as span:
            outcome = await attempt(self.http, endpoint, export_id, delivery, self.policy, now)
            span.set_attributes({"webhook.event": delivery.event_type, "webhook.attempt": outcome.attempt,
                                 "webhook.state": outcome.state})
        log.info("webhook %s %s to %s: attempt %d, %s", delivery.event_type, outcome.state,
                 redact_url(delivery.url), outcome.attempt, outcome.detail, extra={"export_id": export_id})
        if outcome.disable_endpoint:
            self.disabled.add(delivery.url)
        return outcome

    def _advance(self, key: Key, export_id: str, delivery: WebhookDelivery, outcome: DeliveryOutcome) -> None:
        known = self.pending.get(key)
        if known is None or known[1].attempts != delivery.attempts:
            return  # the state moved it on meanwhile, or a rebalance took it away
        if outcome.state == "pending":
            self.pending[key] = (export_id, msgspec.structs.replace(
                delivery, attempts=outcome.attempt, next_attempt_at=outcome.next_attempt_at))
        else:
            del self.pending[key]
            self.finished[key] = export_id
