"""What the scale and chaos benchmarks share: the real pipeline (simulator + stage processes, via
cognigy_archiver/local_pipeline.py's start_pipeline) with one health port per process and any number of sanitizer
processes, a wait until every stage holds its partitions, and an exact check of the archive against the
simulator's records and planted PII."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cognigy_archiver.local_pipeline import Pipeline, record_hash, sanitized_as_served, start_pipeline
from cognigy_archiver.localkafka import LocalKafka, free_port
from cognigy_archiver.metrics_plot import pyplot
from cognigy_archiver.stages import PIPELINE_STAGES
from shared.archive.audit import verify_log
from shared.archive.keystore import KeyStore, open_key_store
from shared.archive.reader import read_export_records, verify_export
from shared.archive.storage import FilesystemStore
from shared.errors import ArchiverError
from shared.kafka.tables import topic_values
from shared.kafka.topics import DLQ, PAGES_SANITIZED
from shared.messages import DeadLetter, SanitizedMessage, SanitizedPage, decode
from shared.settings import ArchiveSettings, AuditSettings, KafkaSettings, PiiSettings, Secret, Settings

RESULTS_DIR = Path(__file__).parent / "results"
DOCS_DIR = Path(__file__).parents[1] / "docs"


def machine() -> dict[str, Any]:
    """The machine is shared (another engineer's tests may run): read every number with the load."""
    return {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}


@dataclass
class BenchPipeline:
    pipeline: Pipeline
    page_size: int
    stage_of: dict[str, str]  # process name -> the stage it runs
    health: dict[str, int]  # process name -> its /readyz port

    @property
    def settings(self) -> Settings:
        return self.pipeline.settings

    def restart(self, name: str) -> None:
        self.pipeline.procs.start(name, "run", self.stage_of[name])

    async def assigned(self, name: str) -> int | None:
        """Partitions the process holds as its /readyz says; None while it does not answer."""
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                body = (await http.get(f"http://127.0.0.1:{self.health[name]}/readyz")).json()
        except (httpx.HTTPError, ValueError):
            return None
        reason = str(body.get("reason", ""))
        return int(reason.split()[0]) if body.get("ok") and reason.endswith("partitions assigned") else 0

    async def wait_ready(self, timeout: float = 180.0) -> float:
        """Until each stage's processes together hold every partition of its input; returns the seconds."""
        started = time.monotonic()
        single = ("fetcher", "scheduler")  # their inputs have one partition
        inputs = {s: 1 if s in single else self.settings.kafka.page_partitions for s in set(self.stage_of.values())}
        while True:
            held = Counter[str]()
            for name, stage in self.stage_of.items():
                held[stage] += await self.assigned(name) or 0
            if all(held[s] == n for s, n in inputs.items()):
                return time.monotonic() - started
            dead = [n for n in self.stage_of if not self.pipeline.procs.alive(n)]
            if dead or time.monotonic() - started > timeout:
                raise RuntimeError(f"stages not ready ({dict(held)}, exited: {dead}): {self.pipeline.tail_logs()}")
            await asyncio.sleep(0.5)


async def start_bench_pipeline(bootstrap: str, work: Path, *, prefix: str, partitions: int, sanitizers: int,
                               conversations: int, page_size: int, page_delay: float = 0.0,
                               sanitizer_workers: int = 1, extra_env: dict[str, str] | None = None,
                               simulator_args: tuple[str, ...] = (), scheduler: bool = False) -> BenchPipeline:
    settings = Settings(kafka=KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix),
                        archive=ArchiveSettings(dir=str(work / "archive")),
                        audit=AuditSettings(log_path=str(work / "audit" / "audit.jsonl")),
                        pii=PiiSettings(tokenization_key=Secret(secrets.token_urlsafe(32))))
    names = {stage: stage for stage in (*PIPELINE_STAGES, *(["scheduler"] if scheduler else []))}
    names.update({f"sanitizer-{i}": "sanitizer" for i in range(2, sanitizers + 1)})
    health = {name: free_port() for name in names}
    stage_env = {name: {"CA_HEALTH_PORT": str(port)} for name, port in health.items()}
    for name in names:
        if name.startswith("sanitizer-"):  # its own transactional id: same-id replicas would fence each other
            stage_env[name]["CA_INSTANCE_ID"] = f"bench-{name}"
    pipeline = await start_pipeline(
        settings, work, "--conversations", str(conversations), "--page-delay", str(page_delay),
        "--page-size", str(page_size),  # the last --page-size wins over the harness's
        *simulator_args,
        # The tenant's rate limit (shared SaaS: 1,000 requests per 5 min) would cap an export at ~3.2 pages/s;
        # the simulator has none, so the pipeline's own capacity shows.
        extra_env={"CA_PAGE_PARTITIONS": str(partitions), "CA_LOG_LEVEL": "INFO",
                   "CA_COGNIGY_RATE_LIMIT_REQUESTS": "1000000",
                   "CA_SANITIZER_WORKERS": str(sanitizer_workers), **(extra_env or {})},
        stage_env=stage_env)
    bench = BenchPipeline(pipeline, page_size, names, health)
    for name in names:
        if name not in pipeline.procs.procs:
            bench.restart(name)
    return bench


async def stop_bench_pipeline(bench: BenchPipeline) -> dict[str, int]:
    codes = await asyncio.to_thread(bench.pipeline.procs.stop_all)
    await bench.pipeline.receiver.stop()
    return codes


async def expected_archive(bench: BenchPipeline) -> dict[str, str]:
    """Record id -> content hash of every record the simulator has, sanitized as the pipeline does."""
    return sanitized_as_served(await bench.pipeline.simulator_lines("/_sim/records"), bench.page_size,
                               bench.settings)


async def check_archive(bench: BenchPipeline, export_id: str) -> dict[str, Any]:
    """The archive against the truth: every record the simulator has, sanitized the same way (tokens are
    deterministic), once; no planted PII value in the archive or the public topic; the manifest, the
    objects and the audit log verify. Counts, not asserts: a benchmark reports what it found."""
    if bench.settings.archive.encryption == "none":
        return await _check(bench, export_id, None)
    async with open_key_store(bench.settings) as keys:
        return await _check(bench, export_id, keys)


async def _check(bench: BenchPipeline, export_id: str, keys: KeyStore | None) -> dict[str, Any]:
    pipeline = bench.pipeline
    store = FilesystemStore(pipeline.archive)
    expected = await expected_archive(bench)
    archived = await read_export_records(store, export_id, keys)
    ids = Counter(str(r["id"]) for r in archived)
    hashes = {str(r["id"]): record_hash(r) for r in archived}
    planted = await pipeline.simulator_lines("/_sim/ground-truth")
    # Each planted value is looked for in its own record, as archived and as published on the public topic
    # (one scan of the whole text per value would take hours on a large dataset).
    texts: dict[str, list[str]] = {}
    for r in archived:
        texts.setdefault(str(r["id"]), []).append(json.dumps(r, ensure_ascii=False))
    for v in await topic_values(bench.settings, PAGES_SANITIZED):
        if isinstance(m := decode(v, SanitizedMessage), SanitizedPage):
            for r in m.records:
                texts.setdefault(str(r["id"]), []).append(json.dumps(r, ensure_ascii=False))
    leaked = [p for p in planted if any(p["value"] in t for t in texts.get(p["record_id"], []))]
    report = await verify_export(store, export_id, keys)
    audit = Path(bench.settings.audit.log_path)
    actions = [json.loads(line)["action"] for line in (await asyncio.to_thread(audit.read_text)).splitlines()]
    dead = [decode(v, DeadLetter) for v in await topic_values(bench.settings, DLQ)]
    return {
        "expected_records": len(expected),
        "archived_records": len(archived),
        "missing_records": len(set(expected) - set(ids)),
        "duplicate_records": sum(n - 1 for n in ids.values()),
        "unexpected_records": len(set(ids) - set(expected)),
        "records_differing_from_expected": sum(1 for i, h in hashes.items() if i in expected and expected[i] != h),
        "planted_pii_values": len(planted),
        "pii_values_leaked": len({p["value"] for p in leaked}),
        # Types and fields only, never the values (synthetic as they are).
        "pii_leaked_by_type_and_field": dict(Counter(f"{p['entity_type']} in {p['field']}" for p in leaked)),
        "archive_verify_ok": report.ok,
        "archive_verify_problems": report.problems[:5],
        "audit_export_archived_entries": actions.count("export archived"),
        "audit_log_problems": len(verify_log(audit, bench.settings.audit.hmac_key.reveal().encode())),
        "completion_webhooks_unique": len(pipeline.receiver.unique_events),
        "dead_letters": len(dead),
        "page_size": bench.page_size,
        "encryption": bench.settings.archive.encryption,
        "segments_checked_decrypted": report.encrypted and report.plaintext_checked,
    }


def exact(check: dict[str, Any]) -> bool:
    """Nothing lost, doubled or changed: the archive holds exactly what one in-process sanitization of the
    source gives, and it, its audit log and its one webhook verify. A planted value the engine misses
    (`pii_values_leaked`, its recall) is reported apart: the in-process sanitization misses it too."""
    return bool(check["missing_records"] == check["duplicate_records"] == check["unexpected_records"]
            == check["records_differing_from_expected"] == check["dead_letters"] == 0
            and check["archived_records"] == check["expected_records"] and check["archive_verify_ok"]
            and check["audit_export_archived_entries"] == 1 and check["audit_log_problems"] == 0
            and check["completion_webhooks_unique"] == 1)


def require_plots() -> None:
    """Exit with the fix before a benchmark spends minutes measuring, if it could not plot them at the end."""
    try:
        pyplot()
    except ArchiverError as exc:
        raise SystemExit(f"error: {exc.message}") from None


@contextlib.contextmanager
def bench_broker() -> Iterator[tuple[str, Path]]:
    """A local broker for one benchmark run, in a temporary folder beside the benchmarks (git-ignored), stopped
    and removed at the end; yields its bootstrap address and the folder, for the run's own files."""
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        broker = LocalKafka(Path(tmp) / "kafka", port=free_port())
        broker.start()
        try:
            yield broker.bootstrap, Path(tmp)
        finally:
            broker.stop()
