"""End-to-end throughput and page latency of the whole pipeline, by sanitizer processes and partitions.

Each run starts the simulator and the stage processes (1 or 2 sanitizer processes, one PII worker each)
on a local broker, with the page topics at 1, 2 or 4 partitions (a fresh topic prefix per run), waits until
every stage holds its partitions, submits one export of the whole dataset and waits for the completion
webhook. Then it reads the topics back: a page's latency is its `fetched_at` (pages.raw) to the Kafka
timestamp of its `archive.segments` event, which the archiver sends after the segment is durable. MB/s
counts the source's page bodies. The whole export is submitted at once and the fetcher outruns the
sanitizer, so latency under load is mostly queueing; a paced run (`--page-delay`) shows it unloaded.
Every run is checked exactly (bench/pipeline_runs.py: no record missing or doubled, no planted PII).

Run: `.venv/bin/python -m bench.scale_bench` -> bench/results/scale.json, docs/scale-bench.png
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.pipeline_runs import (
    DOCS_DIR,
    RESULTS_DIR,
    bench_broker,
    check_archive,
    exact,
    machine,
    require_plots,
    start_bench_pipeline,
    stop_bench_pipeline,
)
from cognigy_archiver.metrics_plot import pyplot
from shared.kafka.tables import read_topic
from shared.kafka.topics import ARCHIVE_SEGMENTS, PAGES_RAW
from shared.messages import PageMessage, RawPage, SegmentMessage, SegmentWritten, decode
from shared.settings import Settings


async def page_timings(settings: Settings, export_id: str) -> dict[str, Any]:
    fetched: dict[int, tuple[datetime, int]] = {}
    async for r in read_topic(settings, settings.kafka.topic(PAGES_RAW)):
        raw = decode(r.value, PageMessage)
        if isinstance(raw, RawPage) and raw.export_id == export_id:
            fetched[raw.page_index] = (raw.fetched_at, len(raw.body))
    archived: dict[int, tuple[float, int]] = {}
    async for r in read_topic(settings, settings.kafka.topic(ARCHIVE_SEGMENTS)):
        seg = decode(r.value, SegmentMessage)
        if isinstance(seg, SegmentWritten) and seg.export_id == export_id:
            archived.setdefault(seg.page_index, (r.timestamp / 1000, seg.records))
    latencies = sorted(archived[i][0] - fetched[i][0].timestamp() for i in archived)
    first = min(f.timestamp() for f, _ in fetched.values())
    seconds = max(t for t, _ in archived.values()) - first
    records = sum(n for _, n in archived.values())
    body_bytes = sum(b for _, b in fetched.values())
    percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "pages": len(archived), "records": records, "source_mb": round(body_bytes / 1e6, 2),
        "first_fetch_to_last_archive_s": round(seconds, 2),
        "records_per_s": round(records / seconds, 1), "mb_per_s": round(body_bytes / 1e6 / seconds, 2),
        "page_latency_s": {"p50": round(percentiles[49], 3), "p99": round(percentiles[98], 3),
                           "max": round(latencies[-1], 3)},
    }


async def one_run(bootstrap: str, work: Path, sanitizers: int, partitions: int, conversations: int,
                  page_size: int, page_delay: float) -> dict[str, Any]:
    prefix = f"{work.name}-s{sanitizers}-p{partitions}."  # fresh topics and groups for every run
    print(f"run: {sanitizers} sanitizer(s), {partitions} partition(s), page delay {page_delay}s", flush=True)
    at_start = machine()
    bench = await start_bench_pipeline(bootstrap, work, prefix=prefix, partitions=partitions,
                                       sanitizers=sanitizers, conversations=conversations, page_size=page_size,
                                       page_delay=page_delay)
    try:
        ready_s = await bench.wait_ready()
        started = time.monotonic()
        request = await bench.pipeline.submit()
        await bench.pipeline.wait_for_webhook(timeout=900)
        submit_to_webhook = time.monotonic() - started
        timings = await page_timings(bench.settings, request.export_id)
        check = await check_archive(bench, request.export_id)
    finally:
        codes = await stop_bench_pipeline(bench)
    result = {"sanitizer_processes": sanitizers, "partitions": partitions, "page_delay_s": page_delay,
              "machine_at_start": at_start, "machine_at_end": machine(), "stages_ready_s": round(ready_s, 1),
              "submit_to_completion_webhook_s": round(submit_to_webhook, 2), **timings,
              "exact": exact(check), "check": check, "exit_codes": codes}
    print(json.dumps({k: v for k, v in result.items() if k != "check"}), flush=True)
    return result


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration: the median over its repeats (the machine is shared: one run can be unlucky), with
    the range."""
    out = []
    for key in sorted({(r["sanitizer_processes"], r["partitions"], r["page_delay_s"]) for r in runs}):
        rows = [r for r in runs if (r["sanitizer_processes"], r["partitions"], r["page_delay_s"]) == key]
        rates = [r["records_per_s"] for r in rows]
        out.append({
            "sanitizer_processes": key[0], "partitions": key[1], "page_delay_s": key[2], "repeats": len(rows),
            "records_per_s": {"median": round(statistics.median(rates), 1), "min": min(rates), "max": max(rates)},
            "mb_per_s_median": round(statistics.median(r["mb_per_s"] for r in rows), 2),
            "page_latency_p50_s_median": round(statistics.median(r["page_latency_s"]["p50"] for r in rows), 3),
            "page_latency_p99_s_median": round(statistics.median(r["page_latency_s"]["p99"] for r in rows), 3),
            "all_exact": all(r["exact"] for r in rows),
        })
    return out


def plot(summary: list[dict[str, Any]], path: Path) -> None:
    plt = pyplot()

    loaded = [r for r in summary if r["page_delay_s"] == 0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for sanitizers, color in ((1, "tab:blue"), (2, "tab:orange")):
        rows = sorted((r for r in loaded if r["sanitizer_processes"] == sanitizers), key=lambda r: r["partitions"])
        if not rows:
            continue
        xs = [r["partitions"] for r in rows]
        label = f"{sanitizers} sanitizer process{'es' if sanitizers > 1 else ''}"
        medians = [r["records_per_s"]["median"] for r in rows]
        spread = [[m - r["records_per_s"]["min"] for m, r in zip(medians, rows, strict=True)],
                  [r["records_per_s"]["max"] - m for m, r in zip(medians, rows, strict=True)]]
        left.errorbar(xs, medians, yerr=spread, fmt="o-", capsize=4, color=color, label=label)
        right.plot(xs, [r["page_latency_p50_s_median"] for r in rows], "o-", color=color, label=f"{label}, p50")
        right.plot(xs, [r["page_latency_p99_s_median"] for r in rows], "s--", color=color, label=f"{label}, p99")
    left.set(title="end-to-end throughput (median, min-max of repeats)", xlabel="page-topic partitions",
             ylabel="records/s", xticks=[1, 2, 4])
    right.set(title="page latency fetch -> archived (whole export queued)", xlabel="page-topic partitions",
              ylabel="seconds", xticks=[1, 2, 4])
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def main() -> None:
    require_plots()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sanitizers", default="1,2", help="sanitizer process counts, comma-separated")
    parser.add_argument("--partitions", default="1,2,4", help="page-topic partition counts, comma-separated")
    parser.add_argument("--conversations", type=int, default=6000, help="simulator dataset size")
    parser.add_argument("--page-size", type=int, default=100, help="records per page the simulator serves")
    parser.add_argument("--paced-delay", type=float, default=0.2,
                        help="also one paced run (1 sanitizer, 4 partitions) with this page delay; 0 = none")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each configuration (the median is plotted)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "scale.json")
    parser.add_argument("--plot", type=Path, default=DOCS_DIR / "scale-bench.png")
    args = parser.parse_args()
    configs = [(s, p, 0.0) for s in map(int, args.sanitizers.split(",")) for p in map(int, args.partitions.split(","))]
    configs *= args.repeat  # the repeats interleaved, so a busy spell of the machine hits several configurations
    if args.paced_delay > 0:
        configs.append((1, 4, args.paced_delay))
    runs = []
    with bench_broker() as (bootstrap, tmp):
        for i, (sanitizers, partitions, delay) in enumerate(configs):
            runs.append(await one_run(bootstrap, tmp / f"run{i}", sanitizers, partitions, args.conversations,
                                      args.page_size, delay))
    summary = summarize(runs)
    results = {"conversations": args.conversations, "records_per_page": args.page_size,
               "sanitizer_workers_per_process": 1, "summary": summary, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(summary, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    asyncio.run(main())
