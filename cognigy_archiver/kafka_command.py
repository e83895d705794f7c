"""`cognigy-archiver kafka fetch|start|stop`: a local single-node Apache Kafka broker, for the demo and for
development."""

from __future__ import annotations

from pathlib import Path

import typer

from cognigy_archiver.console import fail
from shared.errors import ArchiverError

kafka_app = typer.Typer(no_args_is_help=True, help="Start and stop a local Apache Kafka broker (from Maven jars).")


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Download the broker's jars from Maven Central into .cache/ (once)."""
    from cognigy_archiver.localkafka import fetch_jars

    try:
        jars = fetch_jars()
    except ArchiverError as exc:
        fail(exc)
    typer.echo(f"Kafka jars ready in {jars}")


@kafka_app.command("start")
def kafka_start(work_dir: Path = Path("var/kafka"), port: int = 9092) -> None:
    """Start a single-node KRaft broker in the background on 127.0.0.1."""
    from cognigy_archiver.localkafka import LocalKafka, read_running

    running = read_running(work_dir)
    if running:
        typer.echo(f"Kafka already running at {running}")
        return
    broker = LocalKafka(work_dir, port=port)
    try:
        broker.start()
    except ArchiverError as exc:
        fail(exc)
    typer.echo(f"Kafka {broker.bootstrap} started (logs: {broker.log_file}); stop with `cognigy-archiver kafka stop`")


@kafka_app.command("stop")
def kafka_stop(work_dir: Path = Path("var/kafka")) -> None:
    """Stop the broker started by `kafka start` (controlled shutdown)."""
    from cognigy_archiver.localkafka import LocalKafka, read_running

    if not read_running(work_dir):
        typer.echo("no local Kafka is running")
        return
    LocalKafka(work_dir).stop()
    typer.echo("Kafka stopped")
