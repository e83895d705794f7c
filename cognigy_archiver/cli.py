"""The `cognigy-archiver` command.

Modules that only some commands need (asyncio, aiokafka, the archive's, numpy's) are imported by those
commands: `sanitize` over a few thousand lines pays for every import at each start."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast, get_args

import msgspec
import typer

from cognigy_archiver.archive_command import archive_app, audit_app
from cognigy_archiver.fetch_command import fetch
from cognigy_archiver.sanitize_command import register as register_sanitize_commands
from cognigy_archiver.schedule_command import backfill, schedule_app
from cognigy_archiver.subject_command import subject_app
from shared.errors import ArchiverError, ValidationFailed
from shared.export_requests import new_export_id, parse_rule, validate_export_request
from shared.messages import ExportOptions, ExportRequest, SessionRange, SourceName, TimeWindow
from shared.settings import Settings, load_settings

SOURCES: tuple[str, ...] = get_args(SourceName)
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Export Cognigy.AI conversation logs through Kafka into a verified, PII-free archive.")
kafka_app = typer.Typer(no_args_is_help=True, help="Start and stop a local Apache Kafka broker (from Maven jars).")
topics_app = typer.Typer(no_args_is_help=True, help="Create and list the pipeline's topics.")
export_app = typer.Typer(no_args_is_help=True, help="Submit and watch exports.")
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(export_app, name="export")
app.add_typer(archive_app, name="archive")
app.command()(fetch)
app.add_typer(audit_app, name="audit")
app.add_typer(subject_app, name="subject")
app.add_typer(schedule_app, name="schedule")
export_app.command("backfill")(backfill)
register_sanitize_commands(app)


def fail(error: ArchiverError, as_json: bool = False) -> NoReturn:
    if as_json:
        typer.echo(json.dumps(error.to_dict()), err=True)
    else:
        typer.secho(f"error: {error.message}", fg="red", err=True)
        for p in error.details.get("problems", []):
            typer.echo(f"  - {p['field']}: {p['problem']}", err=True)
    raise typer.Exit(2)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ArchiverError as exc:
        fail(exc)


def kafka_unreachable(settings: Settings) -> ArchiverError:
    where = settings.kafka_bootstrap_servers
    if settings.kafka_security_protocol.upper().startswith("SASL_"):
        # aiokafka reports a refused login as a failed bootstrap; say both, and what was tried.
        tls = settings.kafka_security_protocol.upper() == "SASL_SSL"
        checks = "mechanism, password and CA_KAFKA_SSL_CAFILE" if tls else "mechanism and password"
        return ArchiverError(f"cannot connect or authenticate to Kafka at {where} "
                             f"({settings.kafka_security_protocol}, {settings.kafka_sasl_mechanism}, user "
                             f"{settings.kafka_sasl_username!r}): check the address, {checks}")
    if settings.kafka_security_protocol.upper() == "SSL":
        return ArchiverError(f"cannot connect to Kafka at {where} over TLS: check the address, and that "
                             "CA_KAFKA_SSL_CAFILE names the CA that signed the broker's certificate")
    return ArchiverError(f"cannot reach Kafka at {where}: is it running? "
                         "(`cognigy-archiver kafka start`, or set CA_KAFKA_BOOTSTRAP_SERVERS)")


def run_async(coro: Any, settings: Settings) -> Any:
    import asyncio

    from aiokafka.errors import KafkaConnectionError

    try:
        return asyncio.run(coro)
    except KafkaConnectionError:
        fail(kafka_unreachable(settings))


@app.command()
def run(stage: Annotated[str, typer.Argument(
        help="fetcher | verifier | sanitizer | archiver | notifier | scheduler")]) -> None:
    """Run one stage process until SIGTERM."""
    from aiokafka.errors import KafkaConnectionError

    from cognigy_archiver.stages import STAGES, run_stage

    if stage not in STAGES:
        fail(ArchiverError(f"unknown stage {stage!r}; choose one of: {', '.join(STAGES)}"))
    settings = settings_or_fail()
    try:
        run_stage(stage, settings)
    except ArchiverError as exc:
        fail(exc)
    except KafkaConnectionError:
        fail(kafka_unreachable(settings))


@app.command()
def simulate(
    port: int = 8780,
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0 in a container)")] = "127.0.0.1",
    seed: int = 7,
    conversations: int = 300,
    page_size: int = 50,
    corrupt_page: Annotated[list[int] | None, typer.Option(help="page index whose checksum is always wrong")] = None,
    rate_limit_per_minute: int = 0,
    page_delay: Annotated[float, typer.Option(help="seconds of latency per data page")] = 0.0,
    faults: Annotated[str | None, typer.Option(envvar="COGNIGY_SIM_FAULTS", help="faults to inject, as JSON "
                                               "(see simulator/config.py: Faults)")] = None,
    ground_truth: Annotated[Path | None, typer.Option(help="write every planted PII value here (JSON lines)")] = None,
    dataset_start: Annotated[str | None, typer.Option(help="ISO-8601 time the dataset begins at")] = None,
    dataset_seconds: Annotated[float, typer.Option(help="> 0: the dataset spans this many seconds, not 30 days")
                               ] = 0.0,
) -> None:
    """Serve the bundled Cognigy simulator (export-job API with a seeded synthetic dataset)."""
    from simulator.config import dataset_window, parse_faults
    from simulator.server import SimulatorConfig
    from simulator.server import run as serve

    try:
        start = parse_time(dataset_start, "dataset_start") if dataset_start else dataset_window()[0]
        config = SimulatorConfig(host=host, port=port, seed=seed, conversations=conversations, page_size=page_size,
                                 corrupt_pages=corrupt_page or [], rate_limit_requests=rate_limit_per_minute,
                                 page_delay_seconds=page_delay, dataset_start=start, dataset_seconds=dataset_seconds,
                                 faults=parse_faults(faults))
    except ValidationFailed as exc:
        fail(exc)
    except ValueError as exc:
        fail(ArchiverError(f"invalid simulator option: {exc}"))
    if ground_truth is not None:
        from simulator.dataset import generate_dataset, write_ground_truth

        dataset = generate_dataset(seed, conversations, config.dataset_start, config.dataset_days,
                                   seconds=config.dataset_seconds)
        write_ground_truth(dataset, ground_truth)
    serve(config)


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Download the broker's jars from Maven Central into .cache/ (once)."""
    from shared.localkafka import fetch_jars

    try:
        jars = fetch_jars()
    except ArchiverError as exc:
        fail(exc)
    typer.echo(f"Kafka jars ready in {jars}")


@kafka_app.command("start")
def kafka_start(work_dir: Path = Path("var/kafka"), port: int = 9092) -> None:
    """Start a single-node KRaft broker in the background on 127.0.0.1."""
    from shared.localkafka import LocalKafka, read_running

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
    from shared.localkafka import LocalKafka, read_running

    if not read_running(work_dir):
        typer.echo("no local Kafka is running")
        return
    LocalKafka(work_dir).stop()
    typer.echo("Kafka stopped")


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic the pipeline uses; an existing one is left alone, except that a message limit
    (max.message.bytes) below the pipeline's is raised."""
    from shared.topics import create_topics, topic_specs

    settings = settings_or_fail()
    changes = run_async(create_topics(settings), settings)
    for spec in topic_specs(settings):
        name = settings.topic(spec.name)
        mark = "created" if name in changes.created else "exists "
        line = f"{mark} {name} partitions={spec.partitions} {spec.config.get('cleanup.policy', '')}"
        if name in changes.raised:
            line += f" max.message.bytes raised from {changes.raised[name]} to {spec.config['max.message.bytes']}"
        typer.echo(line)


@topics_app.command("describe")
def topics_describe() -> None:
    """Partitions, messages and consumer lag of every topic."""
    from rich.console import Console

    from cognigy_archiver.topic_report import topic_report

    settings = settings_or_fail()
    Console().print(run_async(topic_report(settings), settings))


def parse_time(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed([{"field": field, "problem": f"{text!r} is not an ISO-8601 time"}]) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_request(start: str | None, end: str | None, session_ids: list[str], rules: list[str], output_format: str,
                  max_storage_mb: int | None, retention_days: int | None, export_id: str | None, *,
                  source: str = "export_job", session_range: tuple[str, str] | None = None) -> ExportRequest:
    window = None
    if start or end:
        if not (start and end):
            raise ValidationFailed([{"field": "window", "problem": "give both --start and --end"}])
        window = TimeWindow(parse_time(start, "start"), parse_time(end, "end"))
    if output_format not in ("jsonl", "csv"):
        raise ValidationFailed([{"field": "format", "problem": f"{output_format!r}: use jsonl or csv"}])
    if source not in SOURCES:
        raise ValidationFailed([{"field": "source", "problem": f"{source!r}: use one of {', '.join(SOURCES)}"}])
    options = msgspec.convert({
        "pii_rules": [msgspec.to_builtins(parse_rule(r)) for r in (rules or ["ALL:tokenize"])],
        "output_format": output_format, "max_storage_mb": max_storage_mb, "retention_days": retention_days,
    }, ExportOptions)
    # Built as is, not converted: validate_export_request names every problem (an export id too) at once.
    return ExportRequest(export_id=export_id or new_export_id(), window=window, session_ids=session_ids,
                         options=options, requested_at=datetime.now(UTC), source=cast(SourceName, source),
                         session_range=None if session_range is None else SessionRange(*session_range))


async def publish_request(settings: Settings, request: ExportRequest) -> None:
    from shared.kafka.clients import plain_producer
    from shared.messages import encode
    from shared.topics import EXPORTS

    producer = plain_producer(settings)
    try:
        await producer.start()
        await producer.send_and_wait(settings.topic(EXPORTS), encode(request), key=request.export_id.encode())
    finally:
        await producer.stop()


@export_app.command("submit")
def export_submit(
    start: Annotated[str | None, typer.Option(help="window start, ISO-8601 (e.g. 2026-10-01T00:00:00Z)")] = None,
    end: Annotated[str | None, typer.Option(help="window end, ISO-8601, exclusive")] = None,
    session_id: Annotated[list[str] | None, typer.Option(help="export only these sessions (repeatable)")] = None,
    session_range: Annotated[tuple[str, str] | None, typer.Option(
        metavar="FIRST LAST", help="export the sessions with ids from FIRST to LAST (both included)")] = None,
    source: Annotated[str, typer.Option(help="where the fetcher reads: export_job (Cognigy's export jobs), odata "
                                        "(the OData analytics endpoint; needs a window) or rest (one conversation "
                                        "per session id; needs --session-id)")] = "export_job",
    rule: Annotated[list[str] | None, typer.Option(help="PII rule TYPE:ACTION[:MIN_LENGTH] (repeatable); "
                                                  "default ALL:tokenize")] = None,
    output_format: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    max_storage_mb: int | None = None,
    retention_days: int | None = None,
    export_id: Annotated[str | None, typer.Option(help="default: a new random id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print results and errors as JSON")] = False,
) -> None:
    """Validate an export request and submit it; prints the export id."""
    settings = settings_or_fail()
    try:
        request = build_request(start, end, session_id or [], rule or [], output_format, max_storage_mb,
                                retention_days, export_id, source=source, session_range=session_range)
        validate_export_request(request, settings)
    except ArchiverError as exc:
        fail(exc, as_json)
    run_async(publish_request(settings, request), settings)
    typer.echo(json.dumps({"export_id": request.export_id}) if as_json else request.export_id)


@export_app.command("status")
def export_status(
    export_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="live progress until the export ends")] = False,
) -> None:
    """Progress of an export per stage: pages fetched, verified, sanitized, archived; errors; ETA."""
    from cognigy_archiver.progress import follow_export

    settings = settings_or_fail()
    view = run_async(follow_export(settings, export_id, follow), settings)
    if view.unknown:
        fail(ArchiverError(f"no status for export {export_id!r} yet (is the fetcher running?)"))
    if view.state in ("failed", "partial"):
        raise typer.Exit(1)


@export_app.command("list")
def export_list() -> None:
    """Every export the status topic knows, newest first."""
    from rich.console import Console

    from cognigy_archiver.progress import status_rows
    from shared.kafka.tables import read_table
    from shared.messages import ExportStatus
    from shared.topics import EXPORTS_STATUS

    settings = settings_or_fail()
    table = run_async(read_table(settings, settings.topic(EXPORTS_STATUS), ExportStatus), settings)
    Console().print(status_rows(list(table.values())))


@app.command()
def demo(
    conversations: int = 300,
    work_dir: Path = Path("var/demo"),
    timeout: float = 300.0,
    plot: Annotated[Path | None, typer.Option(help="sample each stage's /metrics and plot them to this PNG")] = None,
    page_delay: Annotated[float, typer.Option(help="simulated Cognigy latency per page, seconds")] = 0.0,
) -> None:
    """Run everything locally: Kafka, the simulator, the five stages, one export, a summary."""
    import asyncio

    from cognigy_archiver.demo import run_demo

    try:
        ok = asyncio.run(run_demo(work_dir, conversations, timeout, plot, page_delay))
    except ArchiverError as exc:
        fail(exc)
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    # aiokafka logs connection failures itself; the commands report them once, in their own words.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    app(prog_name="cognigy-archiver")


if __name__ == "__main__":
    main()
