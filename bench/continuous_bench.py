"""Continuous archiving against a live tenant under a strict rate limit: how fast records reach the archive,
how much of the allowed request rate it takes, and how long a late record waits.

The pipeline is the real one (simulator, the five stages and the scheduler as processes on a local broker,
via bench/pipeline_runs.py). The simulator is live: its records arrive in real time over `--dataset-seconds`
from `--lead` seconds after the start, every `--late-every`th one `--late-by` seconds after its timestamp
(Cognigy's analytics lag); it allows `--rate-limit` requests a minute and answers 429 beyond, and the fetcher is
told the same limit. The scheduler cuts `--window` second windows, settles each `--settle` seconds and re-reads
`--overlap` seconds of the window before, so late records are caught and de-duplicated.

Measured, from the simulator's `/_sim/arrivals` (when each record became visible) and the archive's manifests
(when each export completed): records/s archived; per record, the delay from visible to archived (on time and
late apart; the expected steady-state bound is window + settle); requests used against the allowed rate
(`/_sim/stats`) and the 429s; every record archived exactly once.

Both sources, one after the other in one run (`--sources`), so their requests and delays compare as ratios.

Run: `.venv/bin/python -m bench.continuous_bench` -> bench/results/continuous.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.pipeline_runs import (
    RESULTS_DIR,
    BenchPipeline,
    bench_broker,
    machine,
    start_bench_pipeline,
    stop_bench_pipeline,
)
from shared.archive.manifest import read_manifest
from shared.archive.reader import read_export_records
from shared.archive.segments import manifest_key
from shared.archive.storage import FilesystemStore
from simulator.config import DEMO_API_KEY

SCHEDULE = "continuous"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


async def archived(bench: BenchPipeline, seen: dict[str, list[float]], read: set[str]) -> None:
    """Adds each newly completed export of the schedule to `seen` (record id -> when each export holding it
    completed, epoch seconds); `read` names the exports already read."""
    store = FilesystemStore(bench.pipeline.archive)
    for folder in sorted(bench.pipeline.archive.glob(f"{SCHEDULE}-*")):
        export_id = folder.name
        if export_id in read or not (bench.pipeline.archive / manifest_key(export_id)).exists():
            continue
        completed = (await read_manifest(store, export_id)).completed_at.timestamp()
        for record in await read_export_records(store, export_id):
            seen.setdefault(str(record["id"]), []).append(completed)
        read.add(export_id)


def spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 2),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2), "max": round(ordered[-1], 2)}


async def run(args: argparse.Namespace, source: str, bootstrap: str, work: Path) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=args.lead)
    faults = {"live": True, "late_every": args.late_every, "late_by_seconds": args.late_by}
    env = {
        "CA_SCHEDULE_SINCE": start.isoformat(), "CA_SCHEDULE_WINDOW_SECONDS": str(args.window),
        "CA_SCHEDULE_OVERLAP_SECONDS": str(args.overlap), "CA_SCHEDULE_SOURCE": source,
        "CA_SCHEDULE_TICK_SECONDS": "0.5", "CA_SCHEDULE_RETRY_BASE_SECONDS": "1",
        "CA_SCHEDULE_RETRY_MAX_SECONDS": "10", "CA_COGNIGY_SETTLE_SECONDS": str(args.settle),
        "CA_COGNIGY_RATE_LIMIT_REQUESTS": str(args.rate_limit), "CA_COGNIGY_RATE_LIMIT_PERIOD_SECONDS": "60",
        "CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.2",
        # OData takes an API key with the odata grant (the simulator's demo key has it).
        **({"CA_COGNIGY_AUTH": "api_key", "CA_COGNIGY_API_KEY": DEMO_API_KEY} if source == "odata" else {}),
    }
    bench = await start_bench_pipeline(
        bootstrap, work, prefix=f"continuous-{source}.", partitions=args.partitions, sanitizers=1,
        conversations=args.conversations, page_size=args.page_size, extra_env=env,
        simulator_args=("--dataset-start", start.isoformat(), "--dataset-seconds", str(args.dataset_seconds),
                        "--rate-limit-per-minute", str(args.rate_limit), "--faults", json.dumps(faults)),
        scheduler=True)
    seen: dict[str, list[float]] = {}
    read: set[str] = set()
    try:
        ready_s = await bench.wait_ready()
        arrivals = await bench.pipeline.simulator_lines("/_sim/arrivals")
        visible = {str(a["id"]): epoch(a["visible_at"]) for a in arrivals}
        late = {str(a["id"]) for a in arrivals if epoch(a["visible_at"]) > epoch(a["timestamp"])}
        await asyncio.sleep(max(0.0, start.timestamp() - time.time()))
        before = await bench.pipeline.simulator_stats()
        t0 = time.time()
        deadline = max(visible.values()) + args.window + args.overlap + args.settle + args.timeout
        while set(visible) - set(seen) and time.time() < deadline:
            await asyncio.sleep(2.0)
            await archived(bench, seen, read)
        elapsed = time.time() - t0
        after = await bench.pipeline.simulator_stats()
    finally:
        codes = await stop_bench_pipeline(bench)
    requests = sum(after["requests"].values()) - sum(before["requests"].values())
    allowed = args.rate_limit * elapsed / 60
    delays = {i: min(at) - visible[i] for i, at in seen.items() if i in visible}
    return {
        "conversations": args.conversations, "records": len(visible), "late_records": len(late),
        "dataset_seconds": args.dataset_seconds, "late_by_s": args.late_by, "window_s": args.window,
        "overlap_s": args.overlap, "settle_s": args.settle, "source": source,
        "rate_limit_per_minute": args.rate_limit, "page_size": args.page_size,
        "pipeline_ready_s": round(ready_s, 1), "ready_before_first_record": ready_s < args.lead,
        "run_s": round(elapsed, 1),
        "records_per_s_archived": round(len(set(seen) & set(visible)) / elapsed, 2),
        "requests": requests, "requests_allowed": round(allowed, 1),
        "share_of_allowed_rate": round(requests / allowed, 3) if allowed else None,
        "requests_by_route": {k: v - before["requests"].get(k, 0) for k, v in after["requests"].items()},
        "responses_429": after["rate_limited"] - before["rate_limited"],
        "expected_lag_bound_s": args.window + args.settle,
        "visible_to_archived_s": {"on_time": spread([d for i, d in delays.items() if i not in late]),
                                  "late": spread([d for i, d in delays.items() if i in late])},
        "exports_archived": len(read),
        "missing_records": len(set(visible) - set(seen)),
        "duplicate_records": sum(len(at) - 1 for at in seen.values()),
        "unexpected_records": len(set(seen) - set(visible)),
        "machine_at_end": machine(), "exit_codes_at_stop": codes,
    }


def _ratio(a: dict[str, Any], b: dict[str, Any], kind: str) -> float | None:
    x, y = a["visible_to_archived_s"][kind]["p50"], b["visible_to_archived_s"][kind]["p50"]
    return round(x / y, 2) if x is not None and y else None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--dataset-seconds", type=float, default=120.0, help="records arrive over this long")
    parser.add_argument("--lead", type=float, default=45.0, help="seconds from launch to the first record")
    parser.add_argument("--late-every", type=int, default=10)
    parser.add_argument("--late-by", type=float, default=6.0, help="seconds a late record lags its timestamp")
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--overlap", type=float, default=10.0, help="re-read: must exceed --late-by + --settle")
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--rate-limit", type=int, default=120, help="requests per minute the tenant allows")
    parser.add_argument("--sources", default="export_job,odata", help="run each in turn, side by side in one run")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds past the last arrival to wait")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "continuous.json")
    args = parser.parse_args()
    with bench_broker() as (bootstrap, tmp):
        runs = {source: await run(args, source, bootstrap, tmp / source) for source in args.sources.split(",")}
    result: dict[str, Any] = {"runs": runs}
    if {"export_job", "odata"} <= set(runs):
        job, odata = runs["export_job"], runs["odata"]
        result["odata_vs_export_job"] = {
            "requests": round(odata["requests"] / job["requests"], 2) if job["requests"] else None,
            "p50_visible_to_archived": _ratio(odata, job, "on_time"),
            "p50_late_visible_to_archived": _ratio(odata, job, "late"),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
