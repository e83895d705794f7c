"""Regular expressions from export requests cannot stall the sanitizer (issue 14, finding 3): a pattern that
backtracks catastrophically is refused where the request is checked, one that gets past that runs out of
time on the text that trips it, a worker stuck past the pool's deadline is killed, and the page goes dead
(DLQ with the reason, export partial) while every other export goes on. And a custom type's name is not
a metric label (the low finding "metric labels grow with custom entity types").

With `re`, as before, `(\\w+\\s?)+$` never finishes on "aaa...a!" and `(ab|ab)+c` never on "abab...": these
tests would hang on that code, so the ones that run it in this process import what the fix added first."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from cognigy_archiver.local_pipeline import start_pipeline
from shared.errors import ValidationFailed
from shared.export_requests import validate_export_request
from shared.kafka.clients import plain_producer
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, FETCH_CHECKPOINTS, PAGES_SANITIZED, PAGES_VERIFIED
from shared.messages import (
    DeadLetter,
    ExportOptions,
    ExportRequest,
    ExportTotal,
    FetchCheckpoint,
    PiiRule,
    SanitizedMessage,
    SanitizedPage,
    TimeWindow,
    VerifiedPage,
    decode,
    encode,
    page_key,
)
from shared.settings import PiiSettings, Secret, Settings
from shared.user_patterns import PatternTimeout, expanded_size, pattern_problem
from stages.sanitizer.detector import DetectionOptions, TextItem
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.policy import build_policy
from stages.sanitizer.pool import DetectionTimedOut, DetectorPool
from stages.sanitizer.stage import CUSTOM_TYPE_LABEL, Sanitizer
from tests.archive_fixtures import conversation_records

from .conftest import KEY
from .test_pool import wait_for, workers_of

# Refused by the trial run: exponential in `re`, and still over a second per 1,000 letters in `regex`.
THE_FINDINGS_PATTERN = r"(\w+\s?)+$"
# Gets past the trial (it only blows up on "abab..."): the time limit of each match has to stop it.
TRIAL_MISSES = r"(ab|ab)+c"
TRIPS_IT = "ab" * 40


def ticket_rule(pattern: str) -> PiiRule:
    return PiiRule(entity_type="TICKET_ID", pattern=pattern, action="redact")


def test_patterns_that_backtrack_catastrophically_are_refused_where_requests_are_checked() -> None:
    request = ExportRequest(export_id="exp-redos", window=TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC),
                                                                     end=datetime(2025, 1, 2, tzinfo=UTC)),
                            options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL"),
                                                             ticket_rule(THE_FINDINGS_PATTERN),
                                                             ticket_rule(r"(a|a)+b"), ticket_rule(r"TCK-\d{6}")]))
    with pytest.raises(ValidationFailed) as refused:
        validate_export_request(request, Settings())
    slow = [p for p in refused.value.details["problems"] if p["problem"].startswith("too slow")]
    assert [p["field"] for p in slow] == ["pii_rules[1].pattern", "pii_rules[2].pattern"]
    # The sanitizer and the CLI build their policy through the same check.
    with pytest.raises(ValidationFailed) as again:
        build_policy(request.options.pii_rules)
    assert [p["field"] for p in again.value.details["problems"]] == ["pii_rules[1].pattern", "pii_rules[2].pattern"]
    started = time.monotonic()
    for sane in (r"TCK-\d{6}", r"(?<!\d)\d{6}(?!\d)", r"\b[A-Z]{2}\d{6}\b", r"(?i)\bemp-?\d{4,8}\b", TRIAL_MISSES):
        assert pattern_problem(sane) is None, sane
    assert time.monotonic() - started < 0.5  # milliseconds each, though every request pays it


def test_counted_repeats_that_regex_would_write_out_by_the_million_are_refused() -> None:
    # `regex` compiles x{m} as m copies: (?:a{1000}){1000} takes 270 MB, (?:a|){1000000} crashes the process.
    assert expanded_size(r"TCK-\d{6}") == 4 + 6
    # The group, its "?:" (over-counted, as a group's flags and names are), the digits, the class and "?".
    assert expanded_size(r"(?:\d{4}[ -]?){4}") == 4 * (1 + 2 + 4 + 1 + 1)
    assert expanded_size(r"[{}]{3}\{7}") == 3 + 3  # a class is one element, an escaped brace one more
    problem = pattern_problem(r"(?:\d{200}){200}")
    assert problem is not None and problem.startswith("over 10,000 elements")
    assert pattern_problem(r"\d{1,200000}") is None  # an open count is not written out


def test_a_pattern_over_its_time_limit_raises_a_structured_error_not_a_hang(engine: PiiEngine) -> None:
    records = [{"id": "r1", "sessionId": "s1", "inputText": "ticket abc"},
               {"id": "r2", "sessionId": "s1", "inputText": TRIPS_IT}]
    started = time.monotonic()
    with pytest.raises(PatternTimeout) as timed_out:
        engine.sanitize_page(records, [PiiRule(entity_type="ALL"), ticket_rule(TRIAL_MISSES)])
    assert time.monotonic() - started < 5
    assert timed_out.value.code == "pattern_timeout"
    assert timed_out.value.message == "pii_rules[1].pattern ran over its time limit of 1 s on one text"
    assert [p["field"] for p in timed_out.value.details["problems"]] == ["pii_rules[1].pattern"]


def test_a_pattern_timeout_in_a_worker_reaches_the_caller_and_leaves_the_pool_as_it_was() -> None:
    before = workers_of(os.getpid())
    pool = DetectorPool(2, {}, DetectionOptions(pattern_seconds=0.3))
    try:
        workers = workers_of(os.getpid()) - before
        with pytest.raises(PatternTimeout) as timed_out:
            pool.detect([TextItem("ticket abc"), TextItem(TRIPS_IT)], [ticket_rule(TRIAL_MISSES)])
        assert timed_out.value.field == "pii_rules[0].pattern"
        assert [len(found) for found in pool.detect([TextItem("jane@example.com")], [])] == [1]
        assert workers_of(os.getpid()) - before == workers  # nothing was restarted
    finally:
        pool.close()


def test_a_worker_stuck_past_the_deadline_is_killed_and_the_pool_replaced() -> None:
    before = workers_of(os.getpid())
    # A pattern limit longer than the deadline: the worker is stuck as a bare `re` would leave it.
    pool = DetectorPool(2, {}, DetectionOptions(pattern_seconds=600.0), deadline_seconds=1.0)
    try:
        stuck = workers_of(os.getpid()) - before
        started = time.monotonic()
        with pytest.raises(DetectionTimedOut) as timed_out:
            pool.detect([TextItem(TRIPS_IT)], [ticket_rule(TRIAL_MISSES)])
        assert time.monotonic() - started < 15  # the deadline, then a new pool's start
        assert timed_out.value.code == "detection_timeout"
        assert wait_for(lambda: not (stuck & workers_of(os.getpid())))
        assert len(workers_of(os.getpid()) - before) == 2
        assert [len(found) for found in pool.detect([TextItem("jane@example.com")], [])] == [1]
    finally:
        pool.close()


def test_custom_types_share_one_metric_label(engine: PiiEngine) -> None:
    sanitizer = Sanitizer(Settings(pii=PiiSettings(tokenization_key=Secret(KEY.decode()))), engine)
    rules = [PiiRule(entity_type="EMAIL_ADDRESS"),
             *(PiiRule(entity_type=f"TICKET_{n}", pattern=f"T{n}-\\d+") for n in range(5))]
    records = [{"id": "r1", "sessionId": "s1",
                "inputText": "Tickets T0-1, T1-2, T2-3, T3-4 and T4-5. Mail jane@example.com please."}]
    page = VerifiedPage(export_id="exp-labels", page_index=0, records=records, sha256="0" * 64,
                        options=ExportOptions(pii_rules=rules))
    assert {c.entity_type for c in sanitizer.sanitize(page).redactions} >= {f"TICKET_{n}" for n in range(5)}
    labels = {s.labels["entity_type"] for m in REGISTRY.collect() if m.name == "cognigy_archiver_pii_entities"
              for s in m.samples}
    assert {CUSTOM_TYPE_LABEL, "EMAIL_ADDRESS"} <= labels
    assert not any(label.startswith("TICKET_") for label in labels)


@pytest.mark.timeout(180)
async def test_through_the_pipeline_a_bad_pattern_makes_only_its_own_export_partial(settings: Settings,
                                                                                   tmp_path: Path) -> None:
    """Three exports on one partition of `pages.verified`, the bad ones first, through the real sanitizer (a
    pool of two workers), archiver and notifier processes: the one whose pattern the trial catches and the
    one whose pattern runs out of time go dead with the reason in the DLQ and complete as partial; the
    export behind them completes whole."""
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "4", extra_env={
        "CA_SPACY_MODEL": "none", "CA_SANITIZER_WORKERS": "2"})
    try:
        records = conversation_records(6)
        exports = {
            "exp-refused": ([records[0]], [PiiRule(entity_type="ALL"), ticket_rule(THE_FINDINGS_PATTERN)]),
            "exp-timeout": ([records[1], {**records[2], "inputText": TRIPS_IT}],
                            [PiiRule(entity_type="ALL"), ticket_rule(TRIAL_MISSES)]),
            "exp-normal": (records[3:], [PiiRule(entity_type="ALL"), ticket_rule(r"TCK-\d{6}")]),
        }
        await publish(pipeline.settings, exports)
        await pipeline.wait_until(lambda: len(pipeline.receiver.unique_events) == 3, 120, "three completion webhooks")
        done = {e["data"]["export_id"]: e["data"] for e in pipeline.receiver.unique_events.values()}
        assert {export_id: (d["partial"], d["dead_pages"]) for export_id, d in done.items()} == {
            "exp-refused": (True, [0]), "exp-timeout": (True, [0]), "exp-normal": (False, [])}
        assert done["exp-normal"]["records"] == 3

        letters = {d.export_id: d for d in (decode(v, DeadLetter) for v in await topic_values(settings, DLQ))}
        assert sorted(letters) == ["exp-refused", "exp-timeout"]
        refused, timed_out = letters["exp-refused"], letters["exp-timeout"]
        assert (refused.stage, refused.error_type) == ("sanitizer", "ValidationFailed")
        assert [(p.field, p.problem[:8]) for p in refused.problems] == [("pii_rules[1].pattern", "too slow")]
        assert (timed_out.stage, timed_out.error_type) == ("sanitizer", "PatternTimeout")
        assert timed_out.reason == "pii_rules[1].pattern ran over its time limit of 1 s on one text"
        assert [(p.field, p.problem[:8]) for p in timed_out.problems] == [("pii_rules[1].pattern", "too slow")]

        pages = [decode(v, SanitizedMessage) for v in await topic_values(settings, PAGES_SANITIZED)]
        dead = {p.export_id: p.dead for p in pages if isinstance(p, SanitizedPage)}
        assert dead == {"exp-refused": True, "exp-timeout": True, "exp-normal": False}
    finally:
        pipeline.procs.stop_all()
        await pipeline.receiver.stop()


async def publish(settings: Settings, exports: dict[str, tuple[list[dict[str, Any]], list[PiiRule]]]) -> None:
    """Each export as one verified page on partition 0, in order, with its total and the fetcher's
    checkpoint that vouches for it (what the fetcher and verifier would have sent)."""
    started = datetime(2026, 1, 1, tzinfo=UTC)
    producer = plain_producer(settings)
    await producer.start()
    try:
        for export_id, (records, rules) in exports.items():
            checkpoint = FetchCheckpoint(export_id=export_id, job_id="job", next_page_index=1, resume_token=None,
                                         records=len(records), started_at=started, done=True)
            await producer.send_and_wait(settings.kafka.topic(FETCH_CHECKPOINTS), encode(checkpoint),
                                         key=export_id.encode())
            page = VerifiedPage(export_id=export_id, page_index=0, records=records, sha256="0" * 64,
                                options=ExportOptions(pii_rules=rules))
            await producer.send_and_wait(settings.kafka.topic(PAGES_VERIFIED), encode(page), key=page_key(export_id, 0),
                                         partition=0)
            total = ExportTotal(export_id=export_id, total_pages=1, total_records=len(records), started_at=started)
            for partition in range(settings.kafka.page_partitions):
                await producer.send_and_wait(settings.kafka.topic(PAGES_VERIFIED), encode(total),
                                             key=export_id.encode(), partition=partition)
    finally:
        await producer.stop()
