"""Secured Kafka: a broker that demands SASL (SCRAM-SHA-512 and PLAIN); a stage authenticates, and a wrong
password fails fast with a clear error instead of hanging."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cognigy_archiver.localkafka import LocalKafka

USER, PASSWORD = "archiver", "archiver-secret-0123"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path_factory.mktemp("kafka-sasl"), sasl_users={USER: PASSWORD})
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def cli(broker: LocalKafka, mechanism: str, password: str, *args: str, timeout: float = 60
        ) -> subprocess.CompletedProcess[str]:
    env = {"CA_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "CA_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
           "CA_KAFKA_SASL_MECHANISM": mechanism, "CA_KAFKA_SASL_USERNAME": USER, "CA_KAFKA_SASL_PASSWORD": password,
           "CA_TOPIC_PREFIX": f"sasl-{mechanism.lower()}.", "CA_INSTANCE_ID": "sasl", "PATH": ""}
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_a_stage_authenticates_with_sasl(sasl_broker: LocalKafka, mechanism: str, tmp_path: Path) -> None:
    created = cli(sasl_broker, mechanism, PASSWORD, "topics", "create")
    assert created.returncode == 0, created.stderr
    assert "created" in created.stdout
    # A stage joins its group and polls over SASL: it runs until SIGTERM and exits 0.
    proc = subprocess.Popen([sys.executable, "-m", "cognigy_archiver.cli", "run", "verifier"],
                            env={"CA_KAFKA_BOOTSTRAP_SERVERS": sasl_broker.bootstrap,
                                 "CA_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CA_KAFKA_SASL_MECHANISM": mechanism,
                                 "CA_KAFKA_SASL_USERNAME": USER, "CA_KAFKA_SASL_PASSWORD": PASSWORD,
                                 "CA_TOPIC_PREFIX": f"sasl-{mechanism.lower()}.", "CA_INSTANCE_ID": "sasl",
                                 "PATH": ""},
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "partitions assigned" in line:
            break
    proc.terminate()
    assert proc.wait(30) == 0, "".join(lines)
    assert any("partitions assigned" in line for line in lines)


def test_a_wrong_password_fails_clearly_and_fast(sasl_broker: LocalKafka) -> None:
    started = time.monotonic()
    result = cli(sasl_broker, "SCRAM-SHA-512", "not-the-password", "topics", "create", timeout=30)
    assert time.monotonic() - started < 20
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: cannot connect or authenticate to Kafka at {sasl_broker.bootstrap} (SASL_PLAINTEXT, "
        "SCRAM-SHA-512, user 'archiver'): check the address, mechanism and password")
    assert "not-the-password" not in result.stderr
    stage = cli(sasl_broker, "SCRAM-SHA-512", "not-the-password", "run", "verifier", timeout=30)
    assert stage.returncode == 2 and "cannot connect or authenticate" in stage.stderr
    assert "not-the-password" not in stage.stderr
