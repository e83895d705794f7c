"""Chaos: SIGKILL random stage processes every few seconds while an export runs, then check the archive
is exactly right and count how long recovery took.

The pipeline is the real one (simulator + fetcher, verifier, 2 sanitizers, archiver, notifier as processes
on a local broker, 4 partitions). The simulator serves pages with a delay so the export outlasts the chaos.
Every 2-6 s (seeded) one process is SIGKILLed and started again at once, as a pod's restart would; each
process keeps its transactional id across restarts (what a StatefulSet's stable pod name gives), unless
`--fresh-identity` gives every restart a new one (what a Deployment's new pod name does); `--encrypted`
seals the archive (CA_ARCHIVE_ENCRYPTION=aes-256-gcm) and checks it decrypted. After the chaos
window the export must complete; bench/pipeline_runs.py then checks it record by record: nothing missing,
nothing doubled, no planted PII value in the archive or the public topic, the archive and audit log verify,
one completion webhook.

Measured: per kill, restart -> /readyz ok; the longest stall (no page archived) during the chaos; and the
time from the last kill to the completion webhook.

Run: `.venv/bin/python -m bench.chaos_bench` -> bench/results/chaos.json, docs/chaos-bench.png
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

from bench.pipeline_runs import (
    DOCS_DIR,
    RESULTS_DIR,
    BenchPipeline,
    bench_broker,
    check_archive,
    exact,
    machine,
    require_plots,
    start_bench_pipeline,
    stop_bench_pipeline,
)
from cognigy_archiver.metrics_plot import pyplot

READY_TIMEOUT = 120.0


async def time_to_ready(bench: BenchPipeline, name: str, started: float) -> float | None:
    """Seconds from the restart until the process's /readyz answers ok (it holds partitions)."""
    while time.monotonic() - started < READY_TIMEOUT:
        if await bench.assigned(name):
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.1)
    return None


async def sample_progress(bench: BenchPipeline, export_id: str, t0: float, out: list[tuple[float, int]],
                          stop: asyncio.Event) -> None:
    while not stop.is_set():
        out.append((round(time.monotonic() - t0, 2), bench.pipeline.archived_pages(export_id)))
        await asyncio.sleep(0.5)


def settle_readiness(kills: list[dict[str, Any]]) -> None:
    """A restart that was SIGKILLed again before it got ready has no recovery time of its own: its wait goes
    into the next restart's."""
    for i, kill in enumerate(kills):
        again = next((k["t"] for k in kills[i + 1:] if k["victim"] == kill["victim"]), None)
        if again is not None and (kill["ready_after_s"] is None or kill["t"] + kill["ready_after_s"] > again):
            kill["ready_after_s"] = None
            kill["killed_again_before_ready"] = True


def longest_stall(samples: list[tuple[float, int]], until: float) -> float:
    """The longest time archived pages stood still, up to `until` (the export may still be running)."""
    longest, since, last = 0.0, 0.0, -1
    for t, pages in samples:
        if t > until:
            break
        if pages != last:
            since, last = t, pages
        longest = max(longest, t - since)
    return round(longest, 1)


async def chaos(args: argparse.Namespace, bootstrap: str, work: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    sealed = {"CA_ARCHIVE_ENCRYPTION": "aes-256-gcm", "CA_ARCHIVE_KEY_STORE": str(work / "keys"),
              "CA_ARCHIVE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode()}
    bench = await start_bench_pipeline(bootstrap, work, prefix="chaos.", partitions=args.partitions,
                                       sanitizers=args.sanitizers, conversations=args.conversations,
                                       page_size=args.page_size, page_delay=args.page_delay,
                                       extra_env=sealed if args.encrypted else None)
    kills: list[dict[str, Any]] = []
    samples: list[tuple[float, int]] = []
    readiness: list[asyncio.Task[float | None]] = []
    sampling_stop = asyncio.Event()
    try:
        await bench.wait_ready()
        t0 = time.monotonic()
        request = await bench.pipeline.submit()
        sampler = asyncio.create_task(sample_progress(bench, request.export_id, t0, samples, sampling_stop))
        restarts = 0
        while time.monotonic() - t0 < args.duration:
            await asyncio.sleep(rng.uniform(args.interval_min, args.interval_max))
            if bench.pipeline.receiver.unique_events:
                break  # completed: a kill now would not be "during the export"
            victim = rng.choice(sorted(bench.stage_of))
            bench.pipeline.procs.kill(victim)
            if args.fresh_identity:
                restarts += 1
                bench.pipeline.procs.stage_env[victim]["CA_INSTANCE_ID"] = f"chaos-{victim}-{restarts}"
            restarted = time.monotonic()
            bench.restart(victim)
            kills.append({"t": round(restarted - t0, 2), "victim": victim})
            readiness.append(asyncio.create_task(time_to_ready(bench, victim, restarted)))
        chaos_end = time.monotonic() - t0
        completed_during_chaos = bool(bench.pipeline.receiver.unique_events)
        await bench.pipeline.wait_for_webhook(timeout=900)
        completed = time.monotonic() - t0
        sampling_stop.set()
        await sampler
        for kill, ready in zip(kills, await asyncio.gather(*readiness), strict=True):
            kill["ready_after_s"] = ready
        settle_readiness(kills)
        check = await check_archive(bench, request.export_id)
        served = await bench.pipeline.pages_served()
    finally:
        sampling_stop.set()
        codes = await stop_bench_pipeline(bench)
    ready_times = [k["ready_after_s"] for k in kills if k["ready_after_s"] is not None]
    interrupted = sum(1 for k in kills if k.get("killed_again_before_ready"))
    by_stage = {stage: [k["ready_after_s"] for k in kills if k["ready_after_s"] is not None
                        and bench.stage_of[k["victim"]] == stage] for stage in sorted(set(bench.stage_of.values()))}
    last_kill = kills[-1]["t"] if kills else 0.0
    return {
        "fresh_identity_per_restart": args.fresh_identity, "encrypted": args.encrypted,
        "conversations": args.conversations, "records_per_page": args.page_size, "page_delay_s": args.page_delay,
        "partitions": args.partitions, "sanitizer_processes": args.sanitizers, "seed": args.seed,
        "kill_interval_s": [args.interval_min, args.interval_max],
        "chaos_window_s": round(chaos_end, 1), "completed_during_chaos": completed_during_chaos,
        "kills": len(kills),
        "kills_by_process": {n: sum(k["victim"] == n for k in kills) for n in sorted(bench.stage_of)},
        "restart_to_ready_s": {
            "p50": round(statistics.median(ready_times), 2) if ready_times else None,
            "max": max(ready_times, default=None),
            "p50_by_stage": {s: round(statistics.median(t), 2) if t else None for s, t in by_stage.items()},
            "killed_again_before_ready": interrupted,
            "never_ready_within_s": [READY_TIMEOUT] * (len(kills) - len(ready_times) - interrupted),
        },
        "longest_stall_during_chaos_s": longest_stall(samples, chaos_end),
        "last_kill_to_completion_s": round(completed - last_kill, 1),
        "submit_to_completion_s": round(completed, 1),
        "pages_fetched_more_than_once": sum(1 for n in served if n > 1),
        "exact": exact(check), "check": check,
        "machine_at_end": machine(), "exit_codes_at_stop": codes,
        "kill_log": kills, "archived_pages_over_time": samples,
    }


def plot(result: dict[str, Any], path: Path) -> None:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(11, 4))
    ts, pages = zip(*result["archived_pages_over_time"], strict=True)
    ax.plot(ts, pages, color="black", linewidth=1.2, label="pages archived")
    palette = plt.get_cmap("tab10")
    colors = {name: palette(i) for i, name in enumerate(sorted(result["kills_by_process"]))}
    labelled: set[str] = set()
    for kill in result["kill_log"]:
        victim = kill["victim"]
        ax.axvline(kill["t"], color=colors[victim], alpha=0.6, linewidth=1,
                   label=f"SIGKILL {victim}" if victim not in labelled else None)
        labelled.add(victim)
    ax.set(xlabel="seconds since submit", ylabel="pages archived",
           title=f"{result['kills']} SIGKILLs in {result['chaos_window_s']:.0f} s; archive exact: {result['exact']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def main() -> None:
    require_plots()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=200.0, help="seconds of chaos")
    parser.add_argument("--interval-min", type=float, default=2.0)
    parser.add_argument("--interval-max", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--conversations", type=int, default=1500)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--page-delay", type=float, default=0.8, help="seconds per page: the export outlasts chaos")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sanitizers", type=int, default=2)
    parser.add_argument("--fresh-identity", action="store_true",
                        help="a new transactional id on every restart (a Deployment's pods), not a stable one")
    parser.add_argument("--encrypted", action="store_true",
                        help="the archive encrypted at rest (AES-256-GCM, a master key, a key store apart)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "chaos.json")
    parser.add_argument("--plot", type=Path, default=DOCS_DIR / "chaos-bench.png")
    args = parser.parse_args()
    with bench_broker() as (bootstrap, tmp):
        result = await chaos(args, bootstrap, tmp / "run")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.plot)
    print(json.dumps({k: v for k, v in result.items() if k not in ("kill_log", "archived_pages_over_time")},
                     indent=2))
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    asyncio.run(main())
