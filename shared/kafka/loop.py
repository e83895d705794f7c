"""The consume-transform-produce loop every stage after the fetcher runs, written once.

Each poll batch is one Kafka transaction: the outputs of every record and the input offsets commit
together (`send_offsets_to_transaction`), and downstream readers use `read_committed`, so a crash at any
moment leaves either all of a batch's effects or none. Every send is awaited before the commit, so a
message the broker refuses aborts the transaction rather than being committed past. A record the
processor cannot handle goes to the DLQ with the reason, and so does one whose output would be over the
message limit (never sent, so never refused and retried); a retriable error (shared/errors.py: the broker,
storage or the key store down) aborts the batch and retries it from the same offsets after a pause, so
nothing is lost. SIGTERM
finishes the batch in flight, commits and stops (a static member: the group keeps its partitions for it
until its session times out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeAlias, runtime_checkable

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError
from opentelemetry import trace

from shared.errors import ArchiverError, MessageTooLarge, PoisonError, RetryableError, is_retriable
from shared.kafka.assignor import CoPartitionedAssignor
from shared.kafka.clients import (
    TransactionalProducer,
    broker_refused,
    group_consumer,
    message_limit,
    message_size,
)
from shared.kafka.dead_letters import letter, problems_of, reason_for
from shared.kafka.topics import DLQ
from shared.messages import Problem, encode
from shared.settings import Settings
from shared.telemetry import metrics
from shared.telemetry.health import HEALTH
from shared.telemetry.tracing import current_trace_id, extract_context, inject_headers, tracer

log = logging.getLogger(__name__)

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


@dataclass(frozen=True)
class Output:
    """A message to produce. `partition` pins it (stages keep a page on its partition number)."""

    topic: str
    value: bytes | None  # None: a tombstone, deleting `key` from a compacted topic
    key: bytes | None = None
    partition: int | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


SIZE_REFUSALS = (MessageSizeTooLargeError, RecordListTooLargeError)


class MessageRefused(ArchiverError):
    """The broker refused outputs of a transaction, which was aborted: (output, error) for each."""

    code = "message_refused"
    retriable = True

    def __init__(self, refusals: list[tuple[Output, BaseException]]) -> None:
        super().__init__(", ".join(sorted({type(error).__name__ for _, error in refusals})))
        self.refusals = refusals

    @property
    def too_large(self) -> list[Output]:
        return [out for out, error in self.refusals if isinstance(error, SIZE_REFUSALS)]


class Processor(Protocol):
    async def process(self, record: Record) -> list[Output]: ...


@runtime_checkable
class HoldsBack(Protocol):
    """A processor that keeps records in memory across batches (the archiver's Parquet chunks): it commits
    less than it processed, and a retried batch starts again from what it committed."""

    def commit_offset(self, tp: TopicPartition, next_offset: int) -> int:
        """What to commit for `tp` when the records before `next_offset` are processed."""
        ...

    def rewound(self, tp: TopicPartition) -> None:
        """`tp` is read again from its committed offset: forget what it holds."""
        ...


# Called with the consumer (to ask for committed offsets) and the partitions just assigned.
AssignHook = Callable[[Any, set[TopicPartition]], Awaitable[None]]


def dead_letter(settings: Settings, stage: str, record: Record, reason: str, error_type: str,
                export_id: str | None = None, *, problems: Sequence[Problem] = (), content: bytes | None = None,
                record_index: int | None = None) -> Output:
    """The DLQ message for `record` (see shared/kafka/dead_letters.py: it references, not copies, its input)."""
    metrics.DLQ.labels(stage).inc()
    dead = letter(stage, record, reason, error_type, export_id=export_id, trace_id=current_trace_id(),
                  problems=problems, content=content, record_index=record_index)
    return Output(settings.kafka.topic(DLQ), encode(dead), key=dead.key)


def poison_letter(settings: Settings, stage: str, record: Record, exc: BaseException,
                  export_id: str | None = None) -> Output:
    """Log, count and mark the current span for a record that goes to the DLQ because of `exc`; its letter."""
    reason = reason_for(exc)
    span = trace.get_current_span()
    span.set_status(trace.Status(trace.StatusCode.ERROR))
    span.set_attribute("error.type", type(exc).__name__)
    metrics.ERRORS.labels(stage, type(exc).__name__).inc()
    # Only the reason is logged: an unexpected error's text may quote record content.
    log.warning("%s: %s offset %d partition %d to DLQ: %s", stage, record.topic, record.offset, record.partition,
                reason)
    export_id = export_id or (exc.export_id if isinstance(exc, PoisonError) else None)
    return dead_letter(settings, stage, record, reason, type(exc).__name__, export_id, problems=problems_of(exc))


def check_sizes(settings: Settings, outputs: Sequence[Output]) -> None:
    """Raise MessageTooLarge for the first output over the limit of its topic (with its trace context)."""
    for out in outputs:
        traced = with_trace_context(out)
        size, limit = message_size(traced.key, traced.value, traced.headers), message_limit(settings, out.topic)
        if size > limit:
            learned = limit < settings.kafka.max_message_bytes
            why = (f"and the topic refused one of {limit + 1:,}" if learned
                   else f"over the {limit:,}-byte limit (CA_KAFKA_MAX_MESSAGE_BYTES)")
            raise MessageTooLarge(f"its message for {out.topic} would be {size:,} bytes, {why}")


async def send_transaction(producer: TransactionalProducer, outputs: Sequence[Output],
                           offsets: dict[TopicPartition, int] | None = None, group_id: str | None = None) -> None:
    """Send outputs (and, if given, input offsets) atomically in one transaction.

    Every send is awaited before the commit: a refused one raises MessageRefused and aborts the transaction
    (unawaited, the commit would go through without it). The producer is then replaced, and a size refusal
    lowers the topic's limit for this process (clients.broker_refused), so the retry dead-letters that input."""
    try:
        async with producer.producer.transaction():
            traced = [with_trace_context(out) for out in outputs]
            sent = [await producer.producer.send(out.topic, out.value, key=out.key, partition=out.partition,
                                                 headers=out.headers) for out in traced]
            if offsets:
                await producer.producer.send_offsets_to_transaction(offsets, group_id)
            results = await asyncio.gather(*sent, return_exceptions=True)
            refusals = [(out, r) for out, r in zip(traced, results, strict=True) if isinstance(r, BaseException)]
            if refusals:
                raise MessageRefused(refusals)
    except MessageRefused as exc:
        for out in exc.too_large:
            broker_refused(producer.settings, out.topic, message_size(out.key, out.value, out.headers))
        await producer.replace()
        raise


def with_trace_context(out: Output) -> Output:
    """The output carrying the current span's W3C context, unless it already carries one (outputs are
    sent after their record's span has ended, so the loop attaches the context while it is current)."""
    if any(k == "traceparent" for k, _ in out.headers):
        return out
    return replace(out, headers=inject_headers(out.headers))


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def next_batch(stage: str, consumer: Any, stop: asyncio.Event,
                     max_records: int) -> dict[TopicPartition, list[Record]]:
    """The next poll's records (none once `stop` is set: a poll in flight is cancelled, not waited out), with
    the poll counted for /healthz and the consumer's lag recorded."""
    poll = asyncio.ensure_future(consumer.getmany(timeout_ms=500, max_records=max_records))
    stopped = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({poll, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    batches: dict[TopicPartition, list[Record]] = {}
    if poll in done:
        batches = poll.result()
    else:
        poll.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poll
    HEALTH.polled(len(consumer.assignment()))
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if end is not None:
            lag = max(0, end - await consumer.position(tp))
            metrics.LAG.labels(stage, tp.topic, str(tp.partition)).set(lag)
    return batches


async def shutdown(settings: Settings, consumer: Any, producer: TransactionalProducer) -> None:
    """Not ready any more, then the consumer and the producer stopped, each within half the grace period."""
    HEALTH.draining = True
    grace = settings.kafka.shutdown_grace_seconds
    try:
        await asyncio.wait_for(consumer.stop(), grace / 2)
    finally:
        await asyncio.wait_for(producer.stop(), grace / 2)


class _WaitForBatch(ConsumerRebalanceListener):  # type: ignore[misc]
    """Let the batch in flight commit before partitions move to another member."""

    def __init__(self, lock: asyncio.Lock, on_assign: AssignHook | None) -> None:
        self.lock = lock
        self.on_assign = on_assign
        self.consumer: Any = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.lock:
            log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))
        if self.on_assign is not None:
            # aiokafka fetches while this runs; holding the lock keeps those records from being processed
            # before the state they apply to is restored.
            async with self.lock:
                await self.on_assign(self.consumer, assigned)


class StageLoop:
    """Consumes `input_topics` (short names; one, or several co-partitioned ones: then partition p of each
    goes to the same member, see shared/kafka/assignor.py) and runs each batch through `processor`."""

    def __init__(self, settings: Settings, stage: str, input_topics: str | Sequence[str], processor: Processor, *,
                 on_assign: AssignHook | None = None, max_records: int = 200,
                 retry_pause_seconds: float = 2.0, consumer_options: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.stage = stage
        names = [input_topics] if isinstance(input_topics, str) else input_topics
        self.input_topics = [settings.kafka.topic(name) for name in names]
        self.processor = processor
        self.holds_back = processor if isinstance(processor, HoldsBack) else None
        self.on_assign = on_assign
        self.max_records = max_records
        self.retry_pause_seconds = retry_pause_seconds
        together = {"partition_assignment_strategy": (CoPartitionedAssignor,)} if len(names) > 1 else {}
        self.consumer_options = {**together, **(consumer_options or {})}
        self.batches_committed = 0

    async def run(self, stop: asyncio.Event) -> None:
        lock = asyncio.Lock()
        producer = TransactionalProducer(self.settings, self.stage)
        consumer = group_consumer(self.settings, self.stage, **self.consumer_options)
        listener = _WaitForBatch(lock, self.on_assign)
        listener.consumer = consumer
        consumer.subscribe(self.input_topics, listener=listener)
        await producer.start()
        await consumer.start()
        log.info("%s consuming %s as group %s", self.stage, ", ".join(self.input_topics),
                 self.settings.kafka.group_id(self.stage))
        try:
            while not stop.is_set():
                batches = await next_batch(self.stage, consumer, stop, self.max_records)
                if not batches:
                    continue
                log.debug("batch of %d records from partitions %s", sum(map(len, batches.values())),
                          sorted(tp.partition for tp in batches))
                async with lock:
                    try:
                        await self._process_batch(producer, batches)
                        HEALTH.batch_committed()
                        self.batches_committed += 1
                        metrics.BATCH_COMMITS.labels(self.stage).inc()
                    except ArchiverError as exc:  # only a retriable one: _process_one dead-letters the rest
                        HEALTH.batch_failed({tp: records[0].offset for tp, records in batches.items()}, str(exc))
                        metrics.ERRORS.labels(self.stage, "retryable").inc()
                        log.warning("%s: batch aborted, retrying in %.1fs: %s", self.stage,
                                    self.retry_pause_seconds, exc)
                        for tp, records in batches.items():
                            consumer.seek(tp, await self._retry_offset(consumer, tp, records[0].offset))
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.retry_pause_seconds)
        finally:
            await shutdown(self.settings, consumer, producer)
            log.info("%s stopped after %d committed batches", self.stage, self.batches_committed)

    async def _process_batch(self, producer: TransactionalProducer,
                             batches: dict[TopicPartition, list[Record]]) -> None:
        """Process and commit the batch; raises only a retriable error (the batch is then tried again)."""
        outputs: list[Output] = []
        for records in batches.values():
            for record in records:
                outputs.extend(await self._process_one(record))
        offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
        if self.holds_back is not None:
            offsets = {tp: self.holds_back.commit_offset(tp, offset) for tp, offset in offsets.items()}
        try:
            await send_transaction(producer, outputs, offsets, self.settings.kafka.group_id(self.stage))
        except (KafkaError, MessageRefused) as exc:
            raise RetryableError(f"transaction failed: {type(exc).__name__} {exc}") from exc

    async def _retry_offset(self, consumer: Any, tp: TopicPartition, first: int) -> int:
        """Where a retried batch starts: its first record, or what a processor that holds back committed."""
        if self.holds_back is None:
            return first
        self.holds_back.rewound(tp)
        committed = await consumer.committed(tp)
        return first if committed is None else int(committed)

    async def _process_one(self, record: Record) -> list[Output]:
        ctx = extract_context(record.headers)
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.name": "process",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.consumer.group.name": self.settings.kafka.group_id(self.stage),
        }
        metrics.MESSAGES.labels(self.stage).inc()
        metrics.MESSAGE_BYTES.labels(self.stage).inc(len(record.value or b""))
        with tracer().start_as_current_span(f"process {record.topic}", context=ctx,
                                            kind=trace.SpanKind.CONSUMER, attributes=attributes), \
                metrics.LATENCY.labels(self.stage).time():
            try:
                outputs = [with_trace_context(out) for out in await self.processor.process(record)]
                check_sizes(self.settings, outputs)
                return outputs
            except Exception as exc:
                if is_retriable(exc):
                    raise
                # Anything else is poison: never a crash loop, never a silent drop.
                return [poison_letter(self.settings, self.stage, record, exc)]
