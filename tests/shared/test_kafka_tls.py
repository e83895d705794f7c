"""Kafka over TLS: a broker whose listener is SASL_SSL (or SSL) with a certificate from a private CA, as
Strimzi's `tls` listener is. A stage that trusts the CA (CA_KAFKA_SSL_CAFILE) authenticates and gets its
partitions; one that does not trust it fails fast with exit 2 instead of hanging or talking in clear."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cognigy_archiver.localkafka import BrokerTls, LocalKafka

USER, PASSWORD = "archiver", "archiver-tls-secret-0123"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca_and_broker_cert() -> tuple[str, BrokerTls]:
    """A CA certificate (PEM) and a broker certificate for 127.0.0.1/localhost signed by it, with its key."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test cluster CA")).issuer_name(_name("test cluster CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return ca.public_bytes(pem).decode(), BrokerTls(cert.public_bytes(pem).decode(), key_pem)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, BrokerTls]]:
    ca, broker_tls = make_ca_and_broker_cert()
    path = tmp_path_factory.mktemp("kafka-tls-ca") / "ca.crt"
    path.write_text(ca)
    yield path, broker_tls


@pytest.fixture(scope="module", params=["SASL_SSL", "SSL"])
def tls_broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               ca_file: tuple[Path, BrokerTls]) -> Iterator[tuple[LocalKafka, str]]:
    protocol = request.param
    broker = LocalKafka(tmp_path_factory.mktemp(f"kafka-{protocol.lower()}"), tls=ca_file[1],
                        sasl_users={USER: PASSWORD} if protocol == "SASL_SSL" else None)
    broker.start()
    try:
        yield broker, protocol
    finally:
        broker.stop()


def env(broker: LocalKafka, protocol: str, cafile: Path | None) -> dict[str, str]:
    out = {"CA_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "CA_KAFKA_SECURITY_PROTOCOL": protocol,
           "CA_TOPIC_PREFIX": f"{protocol.lower()}.", "CA_INSTANCE_ID": "tls", "PATH": ""}
    if protocol.startswith("SASL_"):
        out.update(CA_KAFKA_SASL_MECHANISM="SCRAM-SHA-512", CA_KAFKA_SASL_USERNAME=USER,
                   CA_KAFKA_SASL_PASSWORD=PASSWORD)
    if cafile is not None:
        out["CA_KAFKA_SSL_CAFILE"] = str(cafile)
    return out


def test_a_stage_connects_over_tls_trusting_the_cluster_ca(tls_broker: tuple[LocalKafka, str],
                                                           ca_file: tuple[Path, BrokerTls]) -> None:
    broker, protocol = tls_broker
    settings = env(broker, protocol, ca_file[0])
    created = subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", "topics", "create"], env=settings,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    proc = subprocess.Popen([sys.executable, "-m", "cognigy_archiver.cli", "run", "verifier"], env=settings,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "partitions assigned" in line or not line:
            break
    proc.terminate()
    assert proc.wait(30) == 0, "".join(lines)
    assert any("partitions assigned" in line for line in lines), "".join(lines)


def test_a_broker_certificate_the_client_does_not_trust_fails_fast(tls_broker: tuple[LocalKafka, str]) -> None:
    """Without the cluster CA the system trust store is used: the private CA is not in it, the handshake
    fails, and the command says it could not connect (exit 2) within seconds."""
    broker, protocol = tls_broker
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", "topics", "create"],
                            env=env(broker, protocol, None), capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 20
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot") and broker.bootstrap in result.stderr, result.stderr
    assert "CA_KAFKA_SSL_CAFILE" in result.stderr, result.stderr
    assert PASSWORD not in result.stderr
