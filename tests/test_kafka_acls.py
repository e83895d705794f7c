"""The KafkaUsers' ACLs (k8s/base/kafkausers.yaml) against what the code does.

Statically: one user per stage, each reading only its own input and the tables it restores from, writing only
its outputs, using only its own group and transactional ids; nothing on the cluster, no wildcard, no `All`.

On a real broker: the same ACLs, enforced (KRaft's StandardAuthorizer), every stage logged in as its own user
over SASL. An export goes through the five stage processes, poison reaches the DLQ from each of them, and the
fetcher and notifier restart (they read their tables back). The export must complete exactly (the ACLs are
enough) and the broker's authorization log must show every single grant in use (none is more than needed).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import TopicAuthorizationFailedError
from aiokafka.protocol.admin import CreateAclsRequest

from cognigy_archiver.local_pipeline import start_pipeline
from cognigy_archiver.localkafka import LocalKafka, free_port
from cognigy_archiver.stages import STAGES
from cognigy_archiver.topic_report import CONSUMER
from shared.export_requests import build_request, publish_request, publish_schedule_request
from shared.kafka.clients import client_kwargs, plain_producer
from shared.kafka.tables import read_table, read_topic, topic_values
from shared.kafka.topics import (
    DLQ,
    EXPORTS_PROGRESS,
    EXPORTS_STATUS,
    FETCH_CHECKPOINTS,
    TRANSCRIPTS_SANITIZED,
    topic_specs,
)
from shared.messages import DeadLetter, ExportStatus, FetchCheckpoint, ScheduleRequest, decode
from shared.settings import ArchiveSettings, AuditSettings, KafkaSettings, PiiSettings, Secret, Settings
from simulator.server import dataset_window
from tests.stages.scheduler.scheduled import idle_continuous_schedule, schedule_states

pytestmark = pytest.mark.timeout(300)

USERS_FILE = Path(__file__).resolve().parents[1] / "k8s" / "base" / "kafkausers.yaml"
PREFIX = Settings().kafka.topic_prefix  # the CRs name topics, groups and transactional ids with the default prefix
CLIENT = "cognigy-archiver-client"
ADMIN = "admin"
# Kafka's protocol codes (org.apache.kafka.common.acl / resource).
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
PATTERN_TYPES = {"literal": 3, "prefix": 4}
OPERATIONS = {"All": 2, "Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7, "Describe": 8,
              "ClusterAction": 9, "DescribeConfigs": 10, "AlterConfigs": 11, "IdempotentWrite": 12}
ALLOW = 3
# How the broker names resource types in its authorization log.
LOGGED_TYPE = {"topic": "Topic", "group": "Group", "transactionalId": "TransactionalId", "cluster": "Cluster"}
DECISION = re.compile(r"Principal = User:(?P<user>\S+) is (?P<decision>Allowed|Denied) operation = (?P<op>\w+) "
                      r"from host = \S+ on resource = (?P<type>\w+):(?P<pattern>\w+):(?P<name>\S+)")


def kafka_users() -> dict[str, list[dict[str, Any]]]:
    docs = [d for d in yaml.safe_load_all(USERS_FILE.read_text()) if d]
    assert all(d["kind"] == "KafkaUser" for d in docs)
    return {d["metadata"]["name"]: d["spec"]["authorization"]["acls"] for d in docs}


def user_of(stage: str) -> str:
    return f"cognigy-archiver-{stage}"


def grants(acls: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(resource type, pattern type, name, operation) of every ACL entry."""
    return {(a["resource"]["type"], a["resource"].get("patternType", "literal"), a["resource"].get("name", ""), op)
            for a in acls for op in a["operations"]}


def topics_with(acls: list[dict[str, Any]], operation: str) -> set[str]:
    return {name.removeprefix(PREFIX) for kind, _, name, op in grants(acls) if kind == "topic" and op == operation}


# --- static -----------------------------------------------------------------------------------------------


def test_each_stage_has_its_own_user_with_only_its_own_resources() -> None:
    users = kafka_users()
    assert set(users) == {user_of(s) for s in STAGES} | {CLIENT}
    known_topics = {spec.name for spec in topic_specs(Settings())}
    for name, acls in users.items():
        for kind, pattern, resource, op in grants(acls):
            assert op not in ("All", "Alter", "Delete", "Create", "AlterConfigs", "ClusterAction"), (name, op)
            assert "*" not in resource and kind != "cluster", f"{name}: {kind} {resource!r}"
            if kind == "topic":
                assert pattern == "literal" and resource.removeprefix(PREFIX) in known_topics, (name, resource)
    for stage in STAGES:
        acls = users[user_of(stage)]
        # Its input, by the code's own table of who consumes what.
        assert {t for t, s in CONSUMER.items() if s == stage} <= topics_with(acls, "Read")
        groups = {(p, r, op) for kind, p, r, op in grants(acls) if kind == "group"}
        assert groups == {("literal", Settings().kafka.group_id(stage), "Read")}, f"{stage}: only its own group"
        txn = {(p, r) for kind, p, r, _ in grants(acls) if kind == "transactionalId"}
        assert txn == {("prefix", f"{PREFIX}{stage}-")}, f"{stage}: only its own transactional ids"
        assert KafkaSettings(instance_id="cognigy-archiver-x-0").transactional_id(stage).startswith(f"{PREFIX}{stage}-")
    readers = {t: {n for n, a in users.items() if t in topics_with(a, "Read")} for t in known_topics}
    writers = {t: {n for n, a in users.items() if t in topics_with(a, "Write")} for t in known_topics}
    # Raw pages (personal data) are read by the verifier alone; the public topic is written by the sanitizer alone.
    assert readers["pages.raw"] == {user_of("verifier")}
    assert writers["transcripts.sanitized"] == writers["pages.sanitized"] == {user_of("sanitizer")}
    # Exports are requested by people (the client) and the scheduler; backfills by people, for the scheduler alone.
    assert writers["exports"] == {CLIENT, user_of("scheduler")}
    assert writers["schedules"] == {CLIENT} and readers["schedules"] == {user_of("scheduler")}
    assert writers["scheduler.state"] == {user_of("scheduler")}
    # Delivery outcomes are the notifier's to itself; archive.segments is written by the archiver and the fetcher.
    assert readers["notifier.deliveries"] == writers["notifier.deliveries"] == {user_of("notifier")}
    assert writers["archive.segments"] == {user_of("archiver"), user_of("fetcher")}


# --- on a broker that enforces them -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {name: secrets.token_urlsafe(16) for name in [*kafka_users(), ADMIN]}


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory: pytest.TempPathFactory, passwords: dict[str, str]) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path_factory.mktemp("kafka-acl"), port=free_port(), sasl_users=passwords, acl_admin=ADMIN)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def as_user(broker: LocalKafka, user: str, password: str, **overrides: Any) -> Settings:
    return Settings(kafka=KafkaSettings(bootstrap_servers=broker.bootstrap, security_protocol="SASL_PLAINTEXT",
                                        sasl_mechanism="SCRAM-SHA-512", sasl_username=user,
                                        sasl_password=Secret(password), **overrides))


def sasl_env(user: str, password: str) -> dict[str, str]:
    return {"CA_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CA_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "CA_KAFKA_SASL_USERNAME": user, "CA_KAFKA_SASL_PASSWORD": password}


async def create_acls(admin_settings: Settings) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(admin_settings))
    await admin.start()
    try:
        for user, acls in kafka_users().items():
            for kind, pattern, name, op in sorted(grants(acls)):
                request = CreateAclsRequest(RESOURCE_TYPES[kind], name, PATTERN_TYPES[pattern], f"User:{user}", "*",
                                            OPERATIONS[op], ALLOW)
                response = await admin._send_request(request)
                assert [e for e, _ in response.creation_responses] == [0], (user, kind, name, op, response)
    finally:
        await admin.close()


def decisions(log: Path) -> list[dict[str, str]]:
    return [m.groupdict() for line in log.read_text().splitlines() if (m := DECISION.search(line))]


def covers(grant: tuple[str, str, str, str], decision: dict[str, str]) -> bool:
    kind, pattern, name, op = grant
    if LOGGED_TYPE[kind] != decision["type"] or op.upper() != decision["op"].replace("_", ""):
        return False
    return decision["name"].startswith(name) if pattern == "prefix" else decision["name"] == name


async def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_the_pipeline_runs_on_exactly_these_acls(acl_broker: LocalKafka, passwords: dict[str, str],
                                                       tmp_path: Path) -> None:
    admin = as_user(acl_broker, ADMIN, passwords[ADMIN], topic_prefix=PREFIX)
    client = as_user(acl_broker, CLIENT, passwords[CLIENT], topic_prefix=PREFIX)
    await create_acls(admin)
    settings = Settings(kafka=KafkaSettings(bootstrap_servers=acl_broker.bootstrap, topic_prefix=PREFIX),
                        archive=ArchiveSettings(dir=str(tmp_path / "archive")),
                        audit=AuditSettings(log_path=str(tmp_path / "audit" / "audit.jsonl")),
                        pii=PiiSettings(tokenization_key=Secret(secrets.token_urlsafe(32))))
    stage_env = {stage: sasl_env(user_of(stage), passwords[user_of(stage)]) for stage in STAGES}
    stage_env["scheduler"] |= idle_continuous_schedule()
    pipeline = await start_pipeline(settings, tmp_path, "--conversations", "30",
                                    extra_env=sasl_env(ADMIN, passwords[ADMIN]), stage_env=stage_env)
    try:
        # Authorization is on: the verifier's user cannot write the public topic (only the sanitizer may).
        verifier = as_user(acl_broker, user_of("verifier"), passwords[user_of("verifier")], topic_prefix=PREFIX)
        intruder = plain_producer(verifier)
        await intruder.start()
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                await intruder.send_and_wait(verifier.kafka.topic(TRANSCRIPTS_SANITIZED), b"unsanitized", key=b"x")
        finally:
            await intruder.stop()

        start, end = dataset_window()
        request = build_request(start.isoformat(), end.isoformat(), [], [], "jsonl", None, None, None)
        await publish_request(client, request)  # the client user submits and follows exports
        event = await pipeline.wait_for_webhook(timeout=120)
        assert event["data"]["export_id"] == request.export_id and event["data"]["partial"] is False
        assert event["data"]["records"] == len(await pipeline.simulator_lines("/_sim/records"))
        statuses = await read_table(client, client.kafka.topic(EXPORTS_STATUS), ExportStatus)
        assert any(s.export_id == request.export_id for s in statuses.values())
        assert [r async for r in read_topic(client, client.kafka.topic(EXPORTS_PROGRESS))]
        assert await read_table(client, client.kafka.topic(FETCH_CHECKPOINTS), FetchCheckpoint)

        # A backfill: the client asks for it and follows it; the scheduler submits its window and sees it fetched.
        pipeline.procs.start_stage("scheduler")
        history = ScheduleRequest(name="history", since=start, until=start + timedelta(days=2), window_seconds=172800,
                                  options=request.options, requested_at=datetime.now(UTC))
        await publish_schedule_request(client, history)

        async def backfilled() -> bool:
            state = (await schedule_states(client)).get("history")
            return state is not None and state.watermark == history.until

        await wait_for(backfilled, 60, "the backfill window to be fetched")

        # An export the fetcher gives up on: its failure goes straight to the notifier's input (FetchFailed).
        port = int(pipeline.simulator_url.rsplit(":", 1)[1])
        assert pipeline.procs.stop("simulator") == 0
        pipeline.procs.start_simulator(port, "--faults", json.dumps({"job_fails_with": "index shard 3 unavailable"}))
        failing = build_request(start.isoformat(), end.isoformat(), [], [], "jsonl", None, None, None)
        await publish_request(client, failing)

        async def fetch_failed() -> bool:
            statuses = await read_table(client, client.kafka.topic(EXPORTS_STATUS), ExportStatus)
            status = statuses.get(f"{failing.export_id}:fetcher".encode())
            return status is not None and status.state == "failed"

        await wait_for(fetch_failed, 60, "the fetcher to give up")  # the notifier's restart below shows it got it

        # Poison on every stage's input: each dead-letters it (its DLQ write is used too).
        producer = plain_producer(admin)
        await producer.start()
        for topic in CONSUMER:
            await producer.send_and_wait(admin.kafka.topic(topic), b"not a message of ours", key=b"poison")
        await producer.stop()

        async def all_dead_lettered() -> bool:
            letters = [decode(v, DeadLetter) for v in await topic_values(admin, DLQ)]
            return {d.stage for d in letters} == set(STAGES)

        await wait_for(all_dead_lettered, 60, "a dead letter from every stage")

        # The fetcher and the notifier read their tables back when they start: restart both, and wait for the
        # line each logs once it has.
        for stage, done in (("fetcher", "fetcher ready: 3 checkpoints"), ("notifier", "restored 3 exports"),
                            ("scheduler", "history from 2025-01-03")):
            log = pipeline.procs.log_dir / f"{stage}.log"
            assert pipeline.procs.stop(stage) == 0
            pipeline.procs.start_stage(stage)

            async def restored(log: Path = log, done: str = done) -> bool:
                return done in log.read_text()

            await wait_for(restored, 60, f"{stage} to restart and read its table")
    finally:
        codes = pipeline.procs.stop_all()
        await pipeline.receiver.stop()
    assert set(codes.values()) == {0}, pipeline.tail_logs()

    log = decisions(acl_broker.authorizer_log)
    ours = set(kafka_users())
    probe = (user_of("verifier"), PREFIX + TRANSCRIPTS_SANITIZED)  # the denial asked for above
    denied = sorted({(d["user"], d["op"], d["type"], d["name"]) for d in log if d["decision"] == "Denied"
                     and d["user"] in ours and (d["user"], d["name"]) != probe})
    assert not denied, f"the code needed more than the ACLs grant: {denied}"
    for user, acls in kafka_users().items():
        allowed = [d for d in log if d["user"] == user and d["decision"] == "Allowed"]
        unused = sorted(g for g in grants(acls) if not any(covers(g, d) for d in allowed))
        assert not unused, f"{user}: granted but never used, so more than least privilege: {unused}"
