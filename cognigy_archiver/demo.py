"""`cognigy-archiver demo`: the whole pipeline on one machine, one export, and what came out of it."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from cognigy_archiver.localkafka import LocalKafka, free_port
from cognigy_archiver.metrics_plot import MetricsSampler
from cognigy_archiver.processes import ProcessGroup, child_env
from cognigy_archiver.progress import ProgressDisplay, ProgressReader
from cognigy_archiver.stages import PIPELINE_STAGES
from cognigy_archiver.subject_identifiers import SubjectRequest, probes
from cognigy_archiver.subject_search import find_subject
from cognigy_archiver.webhook_receiver import WebhookReceiver
from shared.archive.audit import verify_log
from shared.archive.keystore import open_key_store
from shared.archive.manifest import ManifestTrust, read_manifest
from shared.archive.reader import verify_export
from shared.archive.storage import FilesystemStore
from shared.export_requests import build_request, publish_request
from shared.kafka.topics import create_topics
from shared.settings import Settings, load_settings
from simulator.config import DEMO_CREDENTIALS
from simulator.server import dataset_window

console = Console()


async def _find_a_contact(settings: Settings) -> tuple[str, int, float]:
    """`subject find` for the first contact in the simulator's data: (contact id, records, seconds)."""
    async with httpx.AsyncClient(base_url=settings.cognigy.base_url) as http:
        first = (await http.get("/_sim/records")).text.splitlines()[0]
    contact = str(json.loads(first)["contactId"])
    started = time.monotonic()
    async with open_key_store(settings) as keys:
        found = probes(SubjectRequest(contact_id=[contact]), settings)
        search = await find_subject(FilesystemStore(settings.archive.path), keys, found,
                                    settings.pii.tokenization_key_id)
    return contact, search.record_count, time.monotonic() - started


def write_secret(path: Path, value: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)
    return path


async def run_demo(work_dir: Path, conversations: int, timeout: float, plot: Path | None = None,
                   page_delay: float = 0.0) -> bool:
    load_settings()  # a bad CA_* setting fails here, before anything is started or deleted
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    console.print(f"[bold]cognigy-archiver demo[/] in {work_dir}/ ({conversations} conversations)")
    broker = LocalKafka(work_dir / "kafka")
    with console.status("starting Apache Kafka (first run downloads its jars with Maven)..."):
        broker.start()
    console.print(f"  Kafka          {broker.bootstrap} (KRaft, single node)")
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = WebhookReceiver(webhook_secret)
    hook_url = await receiver.start()
    env = child_env({
        "CA_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "CA_INSTANCE_ID": "demo",
        "CA_ARCHIVE_DIR": str(work_dir / "archive"),
        # Encrypted at rest, as in production: data keys in their own store, wrapped by a fresh master key.
        "CA_ARCHIVE_ENCRYPTION": "aes-256-gcm",
        "CA_ARCHIVE_KEY_STORE": str(work_dir / "keys"),
        "CA_ARCHIVE_MASTER_KEY_FILE": str(write_secret(work_dir / "secrets" / "master.key",
                                                       base64.b64encode(secrets.token_bytes(32)).decode())),
        "CA_AUDIT_LOG_PATH": str(work_dir / "audit" / "audit.jsonl"),
        "CA_TOKENIZATION_KEY_FILE": str(write_secret(work_dir / "secrets" / "tokenization.key",
                                                     secrets.token_urlsafe(32))),
        "CA_WEBHOOK_SECRET_FILE": str(write_secret(work_dir / "secrets" / "webhook.secret", webhook_secret)),
        "CA_WEBHOOK_URLS": hook_url,
        "CA_WEBHOOK_EVENTS": "archival.completed",  # the demo waits for this one event
        "CA_AUDIT_HMAC_KEY_FILE": str(write_secret(work_dir / "secrets" / "audit.key", secrets.token_urlsafe(32))),
    })
    sim_port = free_port()
    env["CA_COGNIGY_BASE_URL"] = f"http://127.0.0.1:{sim_port}"
    env.update(DEMO_CREDENTIALS)
    settings = load_settings(env)
    ports = {stage: free_port() for stage in PIPELINE_STAGES} if plot else {}
    procs = ProcessGroup(env, work_dir / "logs", {s: {"CA_HEALTH_PORT": str(p)} for s, p in ports.items()})
    sampler = MetricsSampler(ports)
    sampling = asyncio.Event()
    sampler_task = asyncio.create_task(sampler.run(sampling)) if plot else None
    try:
        await create_topics(settings)
        console.print(f"  topics         {settings.kafka.topic_prefix}* created")
        procs.start_simulator(sim_port, "--conversations", str(conversations), "--page-delay", str(page_delay))
        console.print(f"  simulator      {env['CA_COGNIGY_BASE_URL']} (seeded synthetic Cognigy tenant)")
        for stage in PIPELINE_STAGES:
            procs.start_stage(stage)
        console.print(f"  stages         {', '.join(PIPELINE_STAGES)} (one process each; logs in {procs.log_dir}/)")
        start, end = dataset_window()
        request = build_request(start.isoformat(), end.isoformat(), [], [], "parquet", None, None, None)
        await publish_request(settings, request)
        console.print(f"  export         {request.export_id} submitted: {start:%Y-%m-%d} to {end:%Y-%m-%d}, "
                      "rule ALL:tokenize")
        return await _follow(request.export_id, settings, procs, receiver, work_dir, timeout)
    finally:
        sampling.set()
        if sampler_task is not None and plot is not None:
            await sampler_task
            sampler.plot(plot)
            console.print(f"  metrics plot   {plot}")
        with console.status("stopping the stages, the simulator and Kafka..."):
            codes = procs.stop_all()
            await receiver.stop()
            broker.stop()
        unclean = {n: c for n, c in codes.items() if c not in (0, -15)}
        if unclean:
            console.print(f"[yellow]processes that did not exit cleanly: {unclean}[/]")


async def _follow(export_id: str, settings: Settings, procs: ProcessGroup, receiver: WebhookReceiver,
                  work_dir: Path, timeout: float) -> bool:
    started = time.monotonic()
    display = ProgressDisplay()
    progress = ProgressReader(settings, export_id)
    await progress.start()
    try:
        with Live(display.update(await progress.refresh()), console=console, refresh_per_second=4) as live:
            while not receiver.unique_events:
                if time.monotonic() - started > timeout:
                    console.print(f"[red]no completion webhook after {timeout:.0f}s; logs in {procs.log_dir}/[/]")
                    return False
                dead = [name for name in procs.procs if not procs.alive(name)]
                if dead:
                    console.print(f"[red]{', '.join(dead)} exited early; see {procs.log_dir}/[/]")
                    return False
                await asyncio.sleep(0.3)
                live.update(display.update(await progress.refresh()))
            live.update(display.update(await progress.refresh()))
        console.print()
    finally:
        await progress.stop()
    elapsed = time.monotonic() - started
    event = next(iter(receiver.unique_events.values()))
    data = event["data"]
    archive = settings.archive.path
    store = FilesystemStore(archive)
    trust = await ManifestTrust.load(settings.audit.hmac_key.reveal().encode(), Path(settings.audit.log_path), store)
    async with open_key_store(settings) as keys:
        report = await verify_export(store, export_id, keys, trust)
    manifest = await read_manifest(store, export_id)
    audit_path = work_dir / "audit" / "audit.jsonl"
    chain_problems = verify_log(audit_path, (work_dir / "secrets" / "audit.key").read_bytes())

    table = Table(title=f"export {export_id}", show_header=False, title_justify="left")
    table.add_row("state", "[yellow]partial[/]" if data["partial"] else "[green]completed[/]")
    parquet = manifest.format == "parquet"
    objects = f"{len(manifest.segments)} {'Parquet files' if parquet else 'segments'}"
    dates = len({s.conversation_date for s in manifest.segments})
    laid_out = f"{objects} over {dates} conversation dates" if parquet else objects
    table.add_row("records archived", f"{data['records']:,} in {data['pages']} pages ({laid_out})")
    encoding = "Parquet (zstd), modular encryption" if parquet else "zstd, AES-256-GCM"
    table.add_row("archive size", f"{data['bytes'] / 1024:,.1f} KiB {encoding}  ({archive / export_id})")
    table.add_row("time to archive", f"{elapsed:.1f} s ({data['records'] / elapsed:,.0f} records/s end to end)")
    redactions = ", ".join(f"{k} {v}" for k, v in sorted(data["redactions"].items())) or "none"
    table.add_row("PII replaced", redactions)
    checked = ("sealed and audited, " if report.authenticated else "not authenticated, ") + (
        "decrypted, records counted" if report.plaintext_checked else "stored bytes only")
    table.add_row("manifest check", f"[green]OK[/] ({checked})" if report.ok else
                  f"[red]{len(report.problems)} problems[/]")
    contact, found, seconds = await _find_a_contact(settings)
    table.add_row("subject find", f"contact {contact}: {found} records, found in {seconds * 1000:.0f} ms")
    signed = sum(d.verified for d in receiver.deliveries)
    table.add_row("webhook", f"{event['type']} received, signature valid ({signed} delivery)")
    table.add_row("audit log", f"{audit_path} ({'chain intact' if not chain_problems else 'CHAIN BROKEN'})")
    console.print(table)
    settings_file = work_dir / "settings.env"
    settings_file.write_text("".join(f"export {k}={v}\n" for k, v in sorted(procs.env.items())
                                     if k.startswith("CA_") and k not in ("CA_LOG_LEVEL", "CA_INSTANCE_ID")))
    console.print(f"Look inside, with the demo's settings ([bold]source {settings_file}[/]):\n"
                  f"  cognigy-archiver archive verify {export_id}\n"
                  f"  cognigy-archiver subject find --contact-id {contact} --records")
    return report.ok and not chain_problems
