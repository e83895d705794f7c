"""A real single-node Apache Kafka (KRaft, broker + controller) from Maven Central jars, for the demo, the
tests and the benchmarks. No Docker: Maven assembles the class path once into a git-ignored cache, and
`java -cp` runs the broker on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ArchiverError

POM = Path(__file__).with_name("pom.xml")
KAFKA_VERSION = "4.1.1"


class LocalKafkaError(ArchiverError):
    code = "local_kafka_error"


def default_cache_dir() -> Path:
    """`.cache/` in the source checkout (git-ignored); the user's cache folder for an installed wheel."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").exists():
        base = repo / ".cache"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cognigy-archiver"
    return base / f"kafka-{KAFKA_VERSION}"


def fetch_jars(cache_dir: Path | None = None) -> Path:
    """Download the broker's runtime class path with Maven (once; later calls reuse the cache)."""
    jars = (cache_dir or default_cache_dir()) / "libs"
    if (jars / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return jars
    if shutil.which("mvn") is None:
        raise LocalKafkaError("Maven (mvn) is needed to fetch the Kafka jars; install it, or set "
                              "KAFKA_BOOTSTRAP_SERVERS / CA_KAFKA_BOOTSTRAP_SERVERS to use a running broker")
    tmp = jars.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = ["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout[-2000:] + result.stderr[-2000:]
        raise LocalKafkaError(f"mvn failed to fetch Kafka {KAFKA_VERSION}: {output}")
    tmp.rename(jars)
    return jars


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cluster_id(data_dir: Path) -> str:
    """The id a data directory was formatted with, so a broker started again on it (after a reboot, or after
    `kafka stop`) keeps its topics: the storage tool refuses any other id. A new one for a new directory."""
    meta = data_dir / "meta.properties"
    if meta.is_file():
        for line in meta.read_text().splitlines():
            if line.startswith("cluster.id="):
                return line.removeprefix("cluster.id=").strip()
    # Never with a leading "-" (1 in 64 would): the storage tool reads it as an option and fails. Kafka's own
    # Uuid.randomUuid() draws again for the same reason.
    while (cid := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cid


SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
log.cleaner.backoff.ms=1000
"""

LOG4J2 = """\
status=warn
appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=warn
rootLogger.appenderRef.out.ref=OUT
logger.started.name=kafka.server.KafkaRaftServer
logger.started.level=info
"""


@dataclass(frozen=True)
class BrokerTls:
    """The broker's certificate chain and its unencrypted PKCS#8 private key, in PEM (Kafka reads PEM
    directly: no Java keystore needed)."""

    certificate_chain: str
    private_key: str


def _client_listener(properties: str, port: int, users: dict[str, str] | None, tls: BrokerTls | None) -> str:
    """Clients connect on `port` over SASL_PLAINTEXT, SSL or SASL_SSL; the broker talks to itself on a
    separate plaintext listener."""
    protocol = ("SASL_" if users else "") + ("SSL" if tls else "PLAINTEXT")
    listener = protocol.lower()
    internal = free_port()
    lines = []
    for line in properties.splitlines():
        if line.startswith("listeners="):
            line = line.replace(f"PLAINTEXT://127.0.0.1:{port}",
                                f"PLAINTEXT://127.0.0.1:{internal},{protocol}://127.0.0.1:{port}")
        elif line.startswith("advertised.listeners="):
            line = f"advertised.listeners=PLAINTEXT://127.0.0.1:{internal},{protocol}://127.0.0.1:{port}"
        elif line.startswith("listener.security.protocol.map="):
            line += f",{protocol}:{protocol}"
        lines.append(line)
    if users:
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in users.items())
        lines += [
            "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
            f"listener.name.{listener}.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"listener.name.{listener}.plain.sasl.jaas.config="
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};",
        ]
    if tls:
        def one_line(pem: str) -> str:  # `\n` in a properties value is a newline
            return pem.strip().replace("\n", "\\n")

        lines += [
            f"listener.name.{listener}.ssl.keystore.type=PEM",
            f"listener.name.{listener}.ssl.keystore.certificate.chain={one_line(tls.certificate_chain)}",
            f"listener.name.{listener}.ssl.keystore.key={one_line(tls.private_key)}",
            f"listener.name.{listener}.ssl.client.auth=none",
        ]
    return "\n".join(lines) + "\n"


def _enforcing_acls(properties: str, admin: str) -> str:
    """ACLs enforced (KRaft's StandardAuthorizer); the broker's own plaintext listeners (ANONYMOUS) and
    `admin` are super users, every other principal gets only what an ACL allows."""
    return properties + (
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
        f"super.users=User:ANONYMOUS;User:{admin}\n"
    )


# Every authorization decision (allowed ones at DEBUG) into authorizer.log, for tests of the ACLs.
AUTHORIZER_LOG4J2 = """\
appender.authz.type=File
appender.authz.name=AUTHZ
appender.authz.fileName={path}
appender.authz.layout.type=PatternLayout
appender.authz.layout.pattern=%m%n
logger.authz.name=kafka.authorizer.logger
logger.authz.level=debug
logger.authz.additivity=false
logger.authz.appenderRef.authz.ref=AUTHZ
"""


@dataclass
class LocalKafka:
    """One broker process. `start()` returns once it accepts connections; `stop()` shuts it down."""

    work_dir: Path
    port: int = 0
    heap: str = "512m"
    # With users (name -> password), clients connect over SASL_PLAINTEXT (SCRAM-SHA-512 or PLAIN) on
    # `port`, or SASL_SSL with `tls` too; with `tls` alone, over SSL. The broker talks to itself on a
    # separate plaintext listener.
    sasl_users: dict[str, str] | None = None
    tls: BrokerTls | None = None
    # A SASL user: ACLs are enforced, this user is a super user (creates topics and ACLs), and every
    # authorization decision is logged to `authorizer_log`.
    acl_admin: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.work_dir / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.work_dir / "kafka.log"

    @property
    def authorizer_log(self) -> Path:
        return self.work_dir / "authorizer.log"

    def start(self, timeout: float = 90.0) -> None:
        jars = fetch_jars()
        if shutil.which("java") is None:
            raise LocalKafkaError("Java 17+ is needed to run the local Kafka broker")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        props = self.work_dir / "server.properties"
        properties = SERVER_PROPERTIES.format(port=self.port, controller_port=free_port(),
                                              data_dir=self.work_dir / "data")
        if self.sasl_users or self.tls:
            properties = _client_listener(properties, self.port, self.sasl_users, self.tls)
        log4j2 = LOG4J2
        if self.acl_admin:
            if self.acl_admin not in (self.sasl_users or {}):
                raise LocalKafkaError(f"acl_admin {self.acl_admin!r} is not one of the SASL users")
            properties = _enforcing_acls(properties, self.acl_admin)
            log4j2 += AUTHORIZER_LOG4J2.format(path=self.authorizer_log)
        props.write_text(properties)
        (self.work_dir / "log4j2.properties").write_text(log4j2)
        classpath = f"{jars}/*"
        log4j = f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.properties'}"
        scram = [arg for name, password in (self.sasl_users or {}).items()
                 for arg in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")]
        fmt = subprocess.run(["java", log4j, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t",
                              _cluster_id(self.work_dir / "data"), "-c", str(props), "--ignore-formatted", *scram],
                             capture_output=True, text=True)
        if fmt.returncode != 0:
            raise LocalKafkaError(f"formatting KRaft storage failed: {fmt.stdout[-1500:]}{fmt.stderr[-1500:]}")
        with self.log_file.open("ab") as out:
            logged_before = out.tell()  # the log is appended to: an earlier start's "started" line is not this one's
            self.process = subprocess.Popen(
                ["java", "-Xms128m", f"-Xmx{self.heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", log4j,
                 "-cp", classpath, "kafka.Kafka", str(props)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.pid_file.write_text(f"{self.process.pid} {self.port}\n")
        self._wait_until_ready(timeout, logged_before)

    def _wait_until_ready(self, timeout: float, logged_before: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalKafkaError(f"Kafka exited with {self.process.returncode}; see {self.log_file}:\n"
                                      + self.log_file.read_text()[-2000:])
            with self.log_file.open("rb") as log:
                log.seek(logged_before)
                if b"Kafka Server started" in log.read():
                    return
            time.sleep(0.2)
        self.stop()
        raise LocalKafkaError(f"Kafka did not start within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.process.pid if self.process else _read_pid(self.pid_file)
        if pid is None:
            return
        _terminate(pid, timeout)
        if self.process is not None:
            self.process.wait()
        self.pid_file.unlink(missing_ok=True)


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_running(work_dir: Path) -> str | None:
    """The bootstrap address of a broker started earlier in `work_dir`, if it still runs."""
    try:
        pid_text, port = (work_dir / "kafka.pid").read_text().split()
        os.kill(int(pid_text), 0)
    except (OSError, ValueError):
        return None
    return f"127.0.0.1:{port}"


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM for a controlled shutdown; SIGKILL only after the timeout."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if _is_zombie(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False
