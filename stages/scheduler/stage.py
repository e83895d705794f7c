"""The scheduler stage: continuous archiving. One replica.

It keeps each schedule's state (ScheduleState, stages/scheduler/windows.py) in the compacted topic
`scheduler.state` and submits each window as an export request on `exports` in the same transaction as the
state that says it was submitted. Its transactional producer fences a killed predecessor first, so the state
it reads at start is every window there was: a restarted scheduler neither skips nor repeats one.

It learns what became of a window from `exports.status` (read from the start, never committed: every decision
follows from the state and the statuses that name the window's request), and takes bounded schedules
(`export backfill`) from the topic `schedules`, committing their offsets with the state they create.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.errors import ArchiverError
from shared.export_requests import validate_export_request
from shared.kafka.clients import TransactionalProducer, group_consumer, reader
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import Output, Record, dead_letter, send_transaction
from shared.kafka.state import StateStore
from shared.kafka.topics import EXPORTS, EXPORTS_STATUS, SCHEDULER_STATE, SCHEDULES
from shared.messages import ExportStatus, ScheduleRequest, ScheduleState, decode, encode
from shared.settings import Settings
from shared.telemetry import metrics
from shared.telemetry.health import HEALTH
from stages.scheduler.windows import (
    CONTINUOUS,
    Step,
    Timing,
    advance,
    backfill_schedule,
    check_first_window,
    check_schedule_settings,
    continuous_schedule,
    oldest_unarchived,
    reconfigured,
    submit_next,
)

log = logging.getLogger(__name__)
STAGE = "scheduler"
RETENTION_WARNING_SHARE = 0.5  # of the tenant's retention: the oldest unarchived window older than this warns
WARNING_INTERVAL_SECONDS = 600.0


class Scheduler:
    def __init__(self, settings: Settings) -> None:
        check_schedule_settings(settings)
        self.settings = settings
        self.timing = Timing.of(settings)
        self.producer = TransactionalProducer(settings, STAGE)
        self.group = settings.kafka.group_id(STAGE)
        self.state_store = StateStore(settings, SCHEDULER_STATE, ScheduleState)
        self.states: dict[str, ScheduleState] = {}
        self.statuses: dict[tuple[str, str], ExportStatus] = {}
        self.warned_at: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        await self.producer.start()  # first: fences a killed predecessor, aborting its open transaction
        try:
            self.states = {state.name: state for state in (await self.state_store.read()).values()}
            await self._start_continuous()
            statuses = reader(self.settings)
            requests = group_consumer(self.settings, STAGE, self.settings.kafka.topic(SCHEDULES))
            await statuses.start()
            await requests.start()
            try:
                status_partition = TopicPartition(self.settings.kafka.topic(EXPORTS_STATUS), 0)
                statuses.assign([status_partition])
                await statuses.seek_to_beginning(status_partition)
                log.info("scheduler ready: %s", ", ".join(f"{s.name} from {s.watermark.isoformat()}"
                                                         for s in self.states.values()))
                while not stop.is_set():
                    await self._read_statuses(statuses)
                    await self._take_requests(requests)
                    await self.tick(datetime.now(UTC))
                    HEALTH.polled(1)
            finally:
                await requests.stop()
                await statuses.stop()
        finally:
            await self.producer.stop()

    async def _start_continuous(self) -> None:
        now = datetime.now(UTC)
        state = self.states.get(CONTINUOUS)
        if state is None:
            state = continuous_schedule(self.settings, now)
            log.info("schedule %s starts at %s, windows of %gs re-reading %gs", CONTINUOUS, state.since.isoformat(),
                     state.window_seconds, state.overlap_seconds)
            await self._write(state, [])  # now: its start, computed from today's date, must never move
        elif self.settings.schedule.since and continuous_schedule(self.settings, now).since != state.since:
            log.warning("schedule %s started at %s; CA_SCHEDULE_SINCE (%s) applies to a new schedule only: archive "
                        "earlier history with `export backfill`", CONTINUOUS, state.since.isoformat(),
                        self.settings.schedule.since)

    async def _read_statuses(self, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=int(self.settings.schedule.tick_seconds * 1000))
        for records in batch.values():
            for record in records:
                try:
                    status: ExportStatus = decode(record.value, ExportStatus)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue  # not a status (the state store's rule: one bad entry must not stop the stage)
                self.statuses[(status.export_id, status.stage)] = status

    async def _take_requests(self, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=0)
        for records in batch.values():
            for record in records:
                await self._take_request(record)

    async def _take_request(self, record: Record) -> None:
        done = {TopicPartition(record.topic, record.partition): record.offset + 1}
        try:
            request: ScheduleRequest = decode(record.value, ScheduleRequest)
            state = backfill_schedule(request)
            check_first_window(state, self.settings)
        except (msgspec.DecodeError, msgspec.ValidationError, ArchiverError) as exc:
            reason = exc.message if isinstance(exc, ArchiverError) else f"bad schedule request: {exc}"
            log.warning("schedule request at offset %d rejected: %s", record.offset, reason)
            letter = dead_letter(self.settings, STAGE, record, reason, type(exc).__name__, problems=problems_of(exc))
            await send_transaction(self.producer, [letter], done, self.group)
            return
        if request.name in self.states:
            log.warning("schedule request %r ignored: a schedule of that name exists", request.name)
            await send_transaction(self.producer, [], done, self.group)
            return
        log.info("schedule %s: windows of %gs from %s to %s", state.name, state.window_seconds, state.since.isoformat(),
                 state.until.isoformat() if state.until else "now")
        await self._write(state, [], done)

    async def tick(self, now: datetime) -> None:
        for name in sorted(self.states):
            state = self.states[name]
            step = advance(state, self.statuses, now, self.timing)
            if name == CONTINUOUS and step.state.current is None:
                step = Step(reconfigured(step.state, self.settings), step.request, step.events)
            if step.request is None:
                more = submit_next(step.state, now, self.timing)
                step = Step(more.state, more.request, step.events + more.events)
            await self._apply(state, step, now)
            self._measure(self.states[name], now)

    async def _apply(self, before: ScheduleState, step: Step, now: datetime) -> None:
        state, request, events = step.state, step.request, step.events
        if request is not None:
            try:
                validate_export_request(request, self.settings)
            except ArchiverError as exc:  # a setting no request may have: said once, nothing submitted
                if before.last_error != exc.message:
                    log.error("schedule %s: window %s not submitted: %s", state.name, request.export_id, exc.message)
                state = msgspec.structs.replace(before, last_error=exc.message, updated_at=now)
                request, events = None, ()
        if state == before:
            return
        outputs = [] if request is None else [Output(self.settings.kafka.topic(EXPORTS), encode(request),
                                                     key=request.export_id.encode())]
        await self._write(state, outputs)
        for event in events:
            metrics.SCHEDULE_WINDOWS.labels(state.name, event).inc()
        window = state.current
        if request is not None and window is not None:
            again = f" (attempt {window.attempts})" if window.attempts > 1 else ""
            log.info("schedule %s: submitted %s: records from %s to %s%s", state.name, request.export_id,
                     window.start.isoformat(), window.end.isoformat(), again)
        if "failed" in events and window is not None and state.retry_at is not None:
            log.warning("schedule %s: window %s failed (%s); retrying at %s", state.name, window.export_id,
                        state.last_error, state.retry_at.isoformat())

    async def _write(self, state: ScheduleState, outputs: list[Output],
                     offsets: dict[TopicPartition, int] | None = None) -> None:
        out = self.state_store.put(state.name.encode(), state)
        await send_transaction(self.producer, [*outputs, out], offsets, self.group if offsets else None)
        self.states[state.name] = state

    def _measure(self, state: ScheduleState, now: datetime) -> None:
        name = state.name
        oldest = (now - oldest_unarchived(state)).total_seconds()
        retention = self.settings.cognigy.retention_days * 86400
        metrics.SCHEDULE_WATERMARK_AGE.labels(name).set((now - state.watermark).total_seconds())
        metrics.SCHEDULE_OLDEST_UNARCHIVED_AGE.labels(name).set(oldest)
        metrics.SCHEDULE_EXPECTED_LAG.labels(name).set(state.window_seconds + self.settings.cognigy.settle_seconds)
        metrics.SCHEDULE_RETENTION.labels(name).set(retention)
        metrics.SCHEDULE_WINDOW_FAILURES.labels(name).set(state.failures)
        if state.until is None and oldest > RETENTION_WARNING_SHARE * retention:
            last = self.warned_at.get(name)
            if last is None or time.monotonic() - last > WARNING_INTERVAL_SECONDS:
                self.warned_at[name] = time.monotonic()
                log.warning("schedule %s: records from %s on are not archived yet (%.1f days); Cognigy deletes "
                            "conversations after %g days (CA_COGNIGY_RETENTION_DAYS): %.1f days left", name,
                            oldest_unarchived(state).isoformat(), oldest / 86400, self.settings.cognigy.retention_days,
                            (retention - oldest) / 86400)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await Scheduler(settings).run(stop)
