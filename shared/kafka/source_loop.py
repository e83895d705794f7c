"""The loop for a stage that takes one request at a time and makes many transactions of it (the fetcher: a
page and its checkpoint each), beside the page loop (shared/kafka/loop.py), whose poll, health and shutdown
it shares.

A request is read, decoded and handed to the stage; the stage's last transaction for it commits its offset
(`RequestTransactions.finish`), so a request left unfinished (a crash, a stop) is read again on restart
and the stage resumes it from what it committed. A request that does not decode or is not valid goes to
the DLQ with the reason, its offset committed in the same transaction. Any other error stops the stage:
the request's offset stays uncommitted, so the restarted stage takes it up again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import msgspec
from aiokafka import TopicPartition

from shared.errors import ArchiverError
from shared.kafka.clients import TransactionalProducer, group_consumer
from shared.kafka.dead_letters import problems_of
from shared.kafka.loop import Output, Record, dead_letter, next_batch, send_transaction, shutdown
from shared.settings import Settings

log = logging.getLogger(__name__)

Request = TypeVar("Request")


class RequestTransactions:
    """The stage's transactional producer, for the request in hand: `send` commits outputs on their own,
    `finish` commits them with the request's offset (the request is done). Subclasses that keep state in
    Kafka restore it in `start`, after the producer has started."""

    def __init__(self, settings: Settings, stage: str) -> None:
        self.settings = settings
        self.stage = stage
        self.producer = TransactionalProducer(settings, stage)

    async def start(self) -> None:
        # Starting it fences a killed predecessor and aborts its open transaction, so state read after it is
        # all there is.
        await self.producer.start()

    async def send(self, outputs: Sequence[Output]) -> None:
        await send_transaction(self.producer, outputs)

    async def finish(self, record: Record, outputs: Sequence[Output]) -> None:
        offsets = {TopicPartition(record.topic, record.partition): record.offset + 1}
        await send_transaction(self.producer, outputs, offsets, self.settings.kafka.group_id(self.stage))


class RequestHandler(Protocol[Request]):
    def decode(self, record: Record) -> Request:
        """The record's request; msgspec's DecodeError or ValidationError, or an ArchiverError, if it has none
        that is valid (the message must not contain PII)."""
        ...

    async def handle(self, record: Record, request: Request, stop: asyncio.Event) -> None:
        """Carry the request out, or as far as `stop` lets it; its last transaction is `finish(record, ...)`."""
        ...


class SourceLoop:
    def __init__(self, settings: Settings, stage: str, input_topic: str, what: str,
                 handler: RequestHandler[Any], transactions: RequestTransactions, **consumer_options: Any) -> None:
        """`what` names the request in the reason a malformed one is dead-lettered with ("bad <what>: ...")."""
        self.settings = settings
        self.stage = stage
        self.input_topic = settings.kafka.topic(input_topic)
        self.what = what
        self.handler = handler
        self.transactions = transactions
        self.consumer_options = consumer_options

    async def run(self, stop: asyncio.Event) -> None:
        consumer = group_consumer(self.settings, self.stage, self.input_topic, max_poll_records=1,
                                  **self.consumer_options)
        try:
            await self.transactions.start()
            await consumer.start()
            log.info("%s consuming %s as group %s", self.stage, self.input_topic,
                     self.settings.kafka.group_id(self.stage))
            while not stop.is_set():
                for records in (await next_batch(self.stage, consumer, stop, max_records=1)).values():
                    for record in records:
                        await self.take(record, stop)
        finally:
            await shutdown(self.settings, consumer, self.transactions.producer)

    async def take(self, record: Record, stop: asyncio.Event) -> None:
        """Decode the record's request and hand it to the stage, or dead-letter it."""
        try:
            request = self.handler.decode(record)
        except (msgspec.DecodeError, msgspec.ValidationError, ArchiverError) as exc:
            reason = exc.message if isinstance(exc, ArchiverError) else f"bad {self.what}: {exc}"
            log.warning("%s at offset %d rejected: %s", self.what, record.offset, reason)
            letter = dead_letter(self.settings, self.stage, record, reason, type(exc).__name__,
                                 problems=problems_of(exc))
            await self.transactions.finish(record, [letter])
        else:
            await self.handler.handle(record, request, stop)
