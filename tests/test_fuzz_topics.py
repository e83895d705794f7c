"""Fuzzing every input topic of the running pipeline with hostile messages (hypothesis): the five stages as
processes on the real broker take rounds of random and hostile messages mixed with good pages, then a real
export. Every stage must stay live (alive, /healthz 200, committing past everything it was given), every
bad message must be dead-lettered with a reason and where it came from, and every good page and the export
must still arrive in the archive, exactly once.

Each round is one hypothesis example (tests/hostile_messages.py), drawn up front and derandomized, so CI
runs the same messages every time; the pipeline is started once for all rounds, because starting it is
what costs. A dead letter may come from the stage that read the message or from a later one that read what
it became (a page with export id `..` may pass the verifier and be refused where it would reach storage):
a message's lineage is followed by its key (the page stages keep it), the source coordinates a segment
event names, and the bytes of a total (passed on unchanged)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from cognigy_archiver.local_pipeline import PAGE_SIZE, Pipeline, record_hash, sanitized_as_served, start_pipeline
from cognigy_archiver.localkafka import free_port
from cognigy_archiver.stages import PIPELINE_STAGES
from shared.archive.reader import read_export_records, verify_export
from shared.archive.segments import decode_segment, dictionary_id, load_dictionary, read_metas
from shared.archive.storage import FilesystemStore
from shared.kafka.clients import client_kwargs
from shared.kafka.tables import read_topic
from shared.kafka.topics import ARCHIVE_SEGMENTS, DLQ, EXPORTS, PAGES_RAW, PAGES_SANITIZED, PAGES_VERIFIED
from shared.messages import DeadLetter, SegmentWritten, decode, encode
from shared.settings import Settings
from tests.hostile_messages import READER, Case, hostile_set, request, total

pytestmark = pytest.mark.timeout(300)
ROUNDS = 3  # the first example hypothesis draws is its simplest; two more are random
ROUND_SECONDS = 45.0
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # the test's producer sends what the stages' producers may not
Coordinates = tuple[str, int, int]  # topic (full name), partition, offset
DOWNSTREAM = {PAGES_RAW: (PAGES_VERIFIED, PAGES_SANITIZED), PAGES_VERIFIED: (PAGES_SANITIZED,),
              PAGES_SANITIZED: ()}


@dataclass(frozen=True)
class Injected:
    case: Case
    tag: str
    topic: str  # full name
    partition: int
    offset: int
    key: bytes
    value: bytes | None

    @property
    def where(self) -> Coordinates:
        return self.topic, self.partition, self.offset


def drawn_rounds(partitions: int, key_id: str) -> list[list[Case]]:
    drawn: list[list[Case]] = []

    @hypothesis_settings(max_examples=ROUNDS, derandomize=True, database=None, deadline=None,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(hostile_set(partitions, key_id))
    def collect(cases: list[Case]) -> None:
        drawn.append(cases)

    collect()
    return drawn[:ROUNDS]


async def inject(settings: Settings, cases: list[Case], prefix: str) -> list[Injected]:
    producer = AIOKafkaProducer(**client_kwargs(settings), enable_idempotence=True, compression_type="zstd",
                                max_request_size=MAX_REQUEST_BYTES)
    await producer.start()
    injected = []
    try:
        for number, case in enumerate(cases):
            tag = f"{prefix}-{number:03d}"
            key, value = case.key or tag.encode(), case.build(tag)
            sent = await producer.send_and_wait(settings.kafka.topic(case.topic), value, key=key,
                                                partition=case.partition)
            injected.append(Injected(case, tag, sent.topic, sent.partition, sent.offset, key, value))
    finally:
        await producer.stop()
    return injected


@dataclass
class Lineage:
    """What the stages made of the injected messages, and the dead letters, as of one read of the topics."""

    letters: dict[Coordinates, list[DeadLetter]]
    by_key: dict[tuple[str, int, bytes], set[Coordinates]]  # page topics: the page stages keep the key
    segments_of: dict[Coordinates, set[Coordinates]]  # a sanitized page -> the segment events naming it
    by_value: dict[bytes, set[Coordinates]]  # archive.segments records the stages wrote, by their bytes

    @classmethod
    async def read(cls, settings: Settings, injected_anywhere: set[Coordinates]) -> Lineage:
        letters: dict[Coordinates, list[DeadLetter]] = defaultdict(list)
        async for record in read_topic(settings, settings.kafka.topic(DLQ)):
            letter = decode(record.value, DeadLetter)
            letters[letter.source_topic, letter.source_partition, letter.source_offset].append(letter)
        lineage = cls(letters, defaultdict(set), defaultdict(set), defaultdict(set))
        for topic in (PAGES_VERIFIED, PAGES_SANITIZED, ARCHIVE_SEGMENTS):
            async for record in read_topic(settings, settings.kafka.topic(topic)):
                where = (record.topic, record.partition, record.offset)
                if where in injected_anywhere:
                    continue
                if topic != ARCHIVE_SEGMENTS:
                    lineage.by_key[record.topic, record.partition, record.key or b""].add(where)
                    continue
                lineage.by_value[record.value or b""].add(where)
                try:
                    event = decode(record.value, SegmentWritten)
                except msgspec.ValidationError:
                    continue  # a total or a fetch failure
                lineage.segments_of[event.source_topic, event.source_partition, event.source_offset].add(where)
        return lineage

    def of(self, settings: Settings, message: Injected) -> set[Coordinates]:
        """Where the message and what the stages made of it are."""
        found = {message.where}
        for topic in DOWNSTREAM.get(message.case.topic, ()):
            found |= self.by_key.get((settings.kafka.topic(topic), message.partition, message.key), set())
        if message.case.topic in DOWNSTREAM:
            found |= {s for where in found for s in self.segments_of.get(where, set())}
            found |= self.by_value.get(message.value, set()) if message.value is not None else set()
        return found


async def archived_ids(store: FilesystemStore, export_id: str) -> Counter[str]:
    dictionary = load_dictionary("builtin")
    assert dictionary is not None
    ids: Counter[str] = Counter()
    for meta in await read_metas(store, export_id):
        data = await store.get(meta.key)
        ids.update(r["id"] for r in decode_segment(data, meta.format, {dictionary_id(dictionary): dictionary}))
    return ids


async def uncommitted(settings: Settings, injected: list[Injected]) -> list[str]:
    """Each stage must have committed its input past the last message injected on each partition."""
    last: dict[tuple[str, TopicPartition], int] = {}
    for message in injected:
        where = (READER[message.case.topic], TopicPartition(message.topic, message.partition))
        last[where] = max(last.get(where, -1), message.offset)
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        behind = []
        for stage in sorted({stage for stage, _ in last}):
            committed = await admin.list_consumer_group_offsets(settings.kafka.group_id(stage))
            for (reader, tp), offset in sorted(last.items()):
                at = committed.get(tp)
                if reader == stage and (at is None or at.offset <= offset):
                    behind.append(f"{stage} has not got past offset {offset} of {tp.topic}[{tp.partition}] "
                                  f"(committed: {at.offset if at else None})")
        return behind
    finally:
        await admin.close()


async def problems(pipeline: Pipeline, injected: list[Injected], anywhere: set[Coordinates]) -> list[str]:
    settings = pipeline.settings
    lineage = await Lineage.read(settings, anywhere)
    store = FilesystemStore(pipeline.archive)
    found = []
    for letters in lineage.letters.values():
        for letter in letters:
            reader = READER.get(letter.source_topic.removeprefix(settings.kafka.topic_prefix))
            if not letter.reason.strip() or not letter.error_type or letter.stage != reader:
                found.append(f"a dead letter without a reason or from the wrong stage: {letter.stage} "
                             f"{letter.error_type!r} {letter.reason!r:.80} about {letter.source_topic}")
    for message in injected:
        case = message.case
        letters = [d for where in lineage.of(settings, message) for d in lineage.letters.get(where, [])]
        if case.letter == "required" and not letters:
            found.append(f"{case!r} at offset {message.offset}: no dead letter")
        if case.letter == "forbidden" and letters:
            found.append(f"{case!r} at offset {message.offset}: dead-lettered ({letters[0].reason:.80})")
        if case.good_records:
            ids = await archived_ids(store, message.tag)
            wanted = {f"{message.tag}-{i}" for i in range(case.good_records)}
            twice = sorted(i for i, n in ids.items() if n > 1)
            if not wanted <= set(ids) or twice:
                found.append(f"{case!r}: archived {sorted(set(ids) & wanted)} of {sorted(wanted)}, twice {twice}")
    return found + await uncommitted(settings, injected)


async def settle(pipeline: Pipeline, injected: list[Injected], anywhere: set[Coordinates], ports: dict[str, int],
                 what: str) -> None:
    """Wait until every case is handled as it must be, then check every stage's health."""
    deadline = time.monotonic() + ROUND_SECONDS
    while found := await problems(pipeline, injected, anywhere):
        exited = [name for name in pipeline.procs.procs if not pipeline.procs.alive(name)]
        if exited or time.monotonic() > deadline:
            shown = "\n  ".join(found)
            stopped = f"{', '.join(exited)} exited (see its log below); then " if exited else ""
            raise AssertionError(f"{what}: {stopped}{len(found)} of {len(injected)} messages not handled:\n"
                                 f"  {shown}\n{pipeline.tail_logs()}")
        await asyncio.sleep(0.5)
    async with httpx.AsyncClient() as http:
        for stage, port in ports.items():
            response = await http.get(f"http://127.0.0.1:{port}/healthz")
            assert response.status_code == 200, f"{what}: {stage} is unhealthy: {response.text}"


async def test_hostile_messages_on_every_topic_are_dead_lettered_and_nothing_stalls(settings: Settings,
                                                                                     tmp_path: Path) -> None:
    rounds = drawn_rounds(settings.kafka.page_partitions, settings.pii.tokenization_key_id)
    ports = {stage: free_port() for stage in PIPELINE_STAGES}
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "20",
                                    extra_env={"CA_SANITIZER_WORKERS": "1", "CA_LOG_LEVEL": "INFO"},
                                    stage_env={stage: {"CA_HEALTH_PORT": str(port)} for stage, port in ports.items()})
    settings = pipeline.settings
    anywhere: set[Coordinates] = set()
    try:
        for number, cases in enumerate(rounds):
            injected = await inject(settings, cases, f"fz{number}")
            anywhere |= {m.where for m in injected}
            await settle(pipeline, injected, anywhere, ports, f"round {number}")

        # Then a real export, with a forged total for it that would complete it after its first page.
        export_id = f"fz-export-{uuid.uuid4().hex[:8]}"
        real = [Case(EXPORTS, "a good export request", "forbidden", lambda tag: encode(request(export_id))),
                Case(ARCHIVE_SEGMENTS, "a forged total of 1 page for a running export", "required",
                     lambda tag: encode(total(export_id, total_pages=1)), partition=None, key=export_id.encode())]
        injected = await inject(settings, real, "fzx")
        anywhere |= {m.where for m in injected}
        await pipeline.wait_until(lambda: any(e["data"]["export_id"] == export_id
                                              for e in pipeline.receiver.unique_events.values()),
                                  ROUND_SECONDS, "the real export's webhook")
        await settle(pipeline, injected, anywhere, ports, "the real export")
        events = list(pipeline.receiver.unique_events.values())
        assert [e["data"]["export_id"] for e in events] == [export_id], "only the real export may complete"
        expected = sanitized_as_served(await pipeline.simulator_lines("/_sim/records"), PAGE_SIZE, settings)
        store = FilesystemStore(pipeline.archive)
        data = events[0]["data"]
        assert data["partial"] is False and data["records"] == len(expected), data
        assert await archived_ids(store, export_id) == Counter(list(expected))
        assert {r["id"]: record_hash(r) for r in await read_export_records(store, export_id)} == expected
        assert (await verify_export(store, export_id)).ok
    finally:
        codes = pipeline.procs.stop_all(timeout=20)
        await pipeline.receiver.stop()
    assert {name: code for name, code in codes.items() if code != 0} == {}, pipeline.tail_logs()
