"""Page-sized JSONL segments vs large Parquet files on the same records, in one run: objects per million
records, bytes stored, compression, write and read throughput, the archiver's memory, and DuckDB queries over
an archive of daily exports. No assertion: numbers, to read with the machine's load.

Records (bench/formats_records.py): the simulator's dataset and the chat_pii_dev conversations (repeated with
new ids to reach RECORDS), each measured on its own.

- Writes go through the real code path: `archive_export` (cognigy_archiver/synthetic_archive.py: the archiver's
  `process` for every page, then the notifier's manifest) into a FilesystemStore (fsync + rename per object).
  JSONL: 50-record page segments with the builtin zstd dictionary, as the archiver writes any JSONL export.
  Parquet: one export of all the records, cut as the archiver cuts it (stages/archiver/file_windows.py) with
  the default CA_ARCHIVE_PARQUET_* settings and with a smaller target (and, for the simulator, the same
  records put on one day: a tenant with 200,000 records a day, whose files the target cuts, not the date);
  the records as daily exports (a scheduler with daily windows), JSONL and Parquet, which the reads and the
  queries use; and three days of the simulator's records as hourly exports (the scheduler's default window).
  `archive_export` spreads an export's pages over two input partitions; a Parquet export has at least one
  file per partition its pages reach and date, so with CA_PAGE_PARTITIONS=4 small exports make up to twice
  the files counted here.
- `encode_only`: the pure encode functions (encode_segment per page, encode_parquet_file per file).
- Read back: every record of every daily export through the project's reader (shared/archive/reader.py),
  decoded exactly.
- Memory (simulator records): a fresh process drives the archiver itself, page by page from two input
  partitions as Kafka delivers them, and reports its peak RSS above what it held before the first page (the
  pages' records): what holding chunks costs a Parquet archiver, against one page at a time for JSONL. Not
  through `archive_export`, which encodes every page's message before the first is archived.
- DuckDB: "records and distinct conversations of one conversation_date" and "one conversation's turns in
  order" over the daily archives, medians of several runs. Parquet: over the files the manifests list
  (docs/archive-format.md), hive_partitioning. JSONL segments carry a dictionary DuckDB cannot use, so what a
  JSONL user has to do is measured twice: decompress every listed segment with the export's dictionary copy
  (zstandard, nothing of this project) into one NDJSON file, then `read_json` it; and, for an archive
  written with CA_ARCHIVE_DICTIONARY=none (the same segments re-encoded by `encode_segment` without
  dictionary), `read_json` over the .jsonl.zst segments in place.

Run: `.venv/bin/python -m bench.formats_bench` -> bench/results/formats.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow
import zstandard

from bench.archiver_bench import jsonl_bytes, pages_of
from bench.formats_records import dev_set_records, simulator_records
from bench.pipeline_runs import machine
from cognigy_archiver.synthetic_archive import archive_export, input_record
from shared.archive.parquet_records import conversation_date
from shared.archive.reader import read_export_records
from shared.archive.segments import (
    decode_segment,
    dictionary_id,
    encode_parquet_file,
    encode_segment,
    load_dictionary,
)
from shared.archive.storage import FilesystemStore
from shared.messages import ExportOptions, ExportTotal, OutputFormat, SanitizedPage, encode
from shared.settings import ArchiveSettings, Settings
from stages.archiver.stage import Archiver

RESULTS = Path(__file__).parent / "results" / "formats.json"
RECORDS = 200_000  # of each set, at least
PAGE_RECORDS = 50  # Cognigy's page size
DEFAULTS = ArchiveSettings()
SMALLER_TARGET_MB = 8
ENCODE_RECORDS = 50_000  # the pure encode functions run on the first records (a rate)
MEMORY_PAGES = 1_500  # 75,000 records: each of two partitions fills a chunk at the default target
QUERY_RUNS = 5
JSONL_QUERY_RUNS = 3  # the JSONL queries take seconds each
_JSONL_COLUMNS = "{sessionId: 'VARCHAR', timestamp: 'VARCHAR', source: 'VARCHAR', inputText: 'VARCHAR'}"

_METADATA_KINDS = {".meta.json": "segment metadata", "manifest.json": "manifests", ".idx": "subject indexes",
                   ".zdict": "dictionaries"}

Pages = list[list[dict[str, Any]]]


def mb(count: int) -> float:
    return round(count / 1e6, 2)


def timed(fn: Callable[[], Any], runs: int, pick: Callable[[list[float]], float] = statistics.median,
          ) -> tuple[float, Any]:
    """`pick` (the median, or the best) of `runs` timed calls, and the last call's answer."""
    times, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - started)
    return round(pick(times), 3), answer


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent, prefix="formats-") as tmp:
        yield Path(tmp)


# --- writing and counting -----------------------------------------------------------------------------


def daily_exports(records: list[dict[str, Any]]) -> list[tuple[str, Pages]]:
    """The records as a scheduler with daily windows exports them: one export per UTC day of `timestamp`."""
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        days[conversation_date(record)].append(record)
    return [(f"exp-{day}", pages_of(day_records, PAGE_RECORDS)) for day, day_records in sorted(days.items())]


async def write(root: Path, exports: list[tuple[str, Pages]], fmt: OutputFormat, settings: Settings) -> float:
    store = FilesystemStore(root)
    started = time.perf_counter()
    for export_id, pages in exports:
        await archive_export(store, export_id, pages, fmt=fmt, settings=settings)
    return time.perf_counter() - started


def stored(root: Path, records: int, json_bytes: int, seconds: float) -> dict[str, Any]:
    """What an archive folder holds: data objects (records) and metadata objects (segment metadata,
    manifests, subject indexes, dictionaries), per million records, and what that cost to write."""
    data: list[int] = []
    meta: list[int] = []
    meta_by_kind: dict[str, int] = defaultdict(int)
    for folder, _, files in os.walk(root):
        if Path(folder).name == ".incoming":
            continue
        for name in files:
            size = (Path(folder) / name).stat().st_size
            if name.endswith((".parquet", ".jsonl.zst")):
                data.append(size)
            else:
                meta.append(size)
                meta_by_kind[next((k for end, k in _METADATA_KINDS.items() if name.endswith(end)), name)] += size
    per_million = 1e6 / records
    return {
        "records": records, "json_mb": mb(json_bytes),
        "data_objects": len(data), "metadata_objects": len(meta),
        "data_objects_per_million_records": round(len(data) * per_million),
        "metadata_objects_per_million_records": round(len(meta) * per_million),
        "mean_data_object_kb": round(sum(data) / max(len(data), 1) / 1e3, 1),
        "data_mb": mb(sum(data)), "metadata_mb": mb(sum(meta)),
        "metadata_mb_by_kind": {kind: mb(size) for kind, size in sorted(meta_by_kind.items())},
        "compression_ratio_data": round(json_bytes / sum(data), 2),
        "compression_ratio_all_objects": round(json_bytes / (sum(data) + sum(meta)), 2),
        "write_seconds": round(seconds, 2), "write_mb_per_s": round(json_bytes / 1e6 / seconds, 1),
    }


async def read_back(root: Path, export_ids: list[str], records: int, json_bytes: int) -> dict[str, Any]:
    store = FilesystemStore(root)
    started = time.perf_counter()
    count = sum([len(await read_export_records(store, export_id)) for export_id in export_ids])
    seconds = time.perf_counter() - started
    return {"records_read": count, "complete": count == records, "seconds": round(seconds, 2),
            "mb_per_s": round(json_bytes / 1e6 / seconds, 1)}


def encode_only(records: list[dict[str, Any]]) -> dict[str, float]:
    """MB/s of JSON through the pure encode functions, the best of two passes (the least disturbed)."""
    records = records[:ENCODE_RECORDS]
    pages, dictionary, json_mb = pages_of(records, PAGE_RECORDS), load_dictionary("builtin"), jsonl_bytes(records) / 1e6
    jsonl, _ = timed(lambda: [encode_segment(p, "jsonl", dictionary) for p in pages], 2, min)
    parquet, _ = timed(lambda: encode_parquet_file(records), 2, min)
    return {"records": len(records), "jsonl_page_segments_mb_per_s": round(json_mb / jsonl, 1),
            "parquet_one_file_mb_per_s": round(json_mb / parquet, 1)}


# --- memory -------------------------------------------------------------------------------------------


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def archiver_peak_memory(pages_file: str, fmt: OutputFormat) -> dict[str, float]:
    """Run in a fresh process: the archiver takes the pages as from two partitions (page i at offset i // 2
    of partition i % 2); its peak RSS above what the process held before the first page. The peak is reset
    there (/proc/self/clear_refs) since ru_maxrss would keep the peak of loading the pages."""
    pages: Pages = msgspec.msgpack.decode(Path(pages_file).read_bytes())
    with scratch() as root:
        archiver = Archiver(Settings(), FilesystemStore(root))
        total = ExportTotal(export_id="exp-memory", total_pages=len(pages),
                            total_records=sum(map(len, pages)), started_at=datetime.now(UTC))
        gc.collect()
        baseline = _rss_kb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to now

        async def run() -> None:
            for index, records in enumerate(pages):
                page = SanitizedPage(export_id="exp-memory", page_index=index, records=records, redactions=[],
                                     key_id="k1", options=ExportOptions(output_format=fmt))
                await archiver.process(input_record(encode(page), index % 2, index // 2))
            for partition in (0, 1):  # the total after each partition's last page closes its chunk
                await archiver.process(input_record(encode(total), partition, (len(pages) + 1) // 2))

        asyncio.run(run())
        peak = _rss_kb("VmHWM")
    return {"pages": len(pages), "baseline_rss_mb": round(baseline / 1024, 1),
            "peak_above_baseline_mb": round((peak - baseline) / 1024, 1)}


def peak_memory(pages: Pages) -> dict[str, dict[str, float]]:
    with scratch() as tmp:
        pages_file = tmp / "pages.msgpack"
        pages_file.write_bytes(msgspec.msgpack.encode(pages))
        out = {}
        for fmt in ("jsonl", "parquet"):
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                out[fmt] = pool.submit(archiver_peak_memory, str(pages_file), fmt).result()
    return out


# --- DuckDB -------------------------------------------------------------------------------------------


def listed_keys(root: Path) -> list[str]:
    """The data objects the manifests list, as a reader outside the project finds them."""
    return [segment["key"] for manifest in sorted(root.glob("*/manifest.json"))
            for segment in json.loads(manifest.read_bytes())["segments"]]


def parquet_queries(root: Path, day: str, session: str) -> dict[str, Any]:
    """docs/archive-format.md's recipe: the manifest-listed files, then the query; each timed whole."""
    con = duckdb.connect()
    files = f"""SET VARIABLE files = (select list('{root}/' || s.key)
                from (select unnest(segments) as s from read_json('{root}/*/manifest.json')))"""
    source = "read_parquet(getvariable('files'), hive_partitioning = true)"

    def one_day() -> Any:
        con.execute(files)
        return con.execute(f"select count(*), count(distinct sessionId) from {source} "
                           f"where conversation_date = '{day}'").fetchone()

    def conversation() -> Any:
        con.execute(files)
        # as text: a TIMESTAMPTZ needs pytz to reach Python
        return con.execute(f'select "timestamp"::varchar, source, inputText from {source} where sessionId = ? '
                           'order by "timestamp"', [session]).fetchall()

    return _query_results(one_day, conversation, QUERY_RUNS)


def jsonl_decompressed_queries(root: Path, day: str, session: str) -> dict[str, Any]:
    """A JSONL user's path: every listed segment decompressed with its export's dictionary into one
    NDJSON file (needed again for every query, unless a decompressed copy is kept), then DuckDB on it."""
    ndjson = root.parent / f"{root.name}.ndjson"

    def decompress() -> None:
        dictionaries: dict[str, zstandard.ZstdDecompressor] = {}
        with ndjson.open("wb") as out:
            for manifest_file in sorted(root.glob("*/manifest.json")):
                manifest = json.loads(manifest_file.read_bytes())
                for ref in manifest["dictionaries"]:
                    dictionaries.setdefault(ref["key"], zstandard.ZstdDecompressor(
                        dict_data=zstandard.ZstdCompressionDict((root / ref["key"]).read_bytes())))
                (decompressor,) = (dictionaries[ref["key"]] for ref in manifest["dictionaries"])
                for segment in manifest["segments"]:
                    out.write(decompressor.decompress((root / segment["key"]).read_bytes()))

    decompress_seconds, _ = timed(decompress, JSONL_QUERY_RUNS)
    source = f"read_json('{ndjson}', format = 'newline_delimited', columns = {_JSONL_COLUMNS})"
    result = _query_results(*_jsonl_queries(duckdb.connect(), source, day, session), QUERY_RUNS)
    ndjson.unlink()
    result["decompress_seconds"] = decompress_seconds
    for name in ("one_day", "one_conversation"):
        result[name]["with_decompression_seconds"] = round(result[name]["seconds"] + decompress_seconds, 3)
    return result


def jsonl_in_place_queries(root: Path, day: str, session: str) -> dict[str, Any]:
    """The archive as written with CA_ARCHIVE_DICTIONARY=none (each listed segment re-encoded without the
    dictionary, under its own key): DuckDB reads the .jsonl.zst segments as they lie."""
    plain = root.parent / f"{root.name}-no-dictionary"
    dictionary = load_dictionary("builtin") or b""
    dictionaries = {dictionary_id(dictionary): dictionary}
    keys = listed_keys(root)
    for key in keys:
        records = decode_segment((root / key).read_bytes(), "jsonl", dictionaries)
        (plain / key).parent.mkdir(parents=True, exist_ok=True)
        (plain / key).write_bytes(encode_segment(records, "jsonl", None))
    files = "[" + ", ".join(f"'{plain / key}'" for key in keys) + "]"
    source = f"read_json({files}, format = 'newline_delimited', compression = 'zstd', columns = {_JSONL_COLUMNS})"
    result = _query_results(*_jsonl_queries(duckdb.connect(), source, day, session), JSONL_QUERY_RUNS)
    result["stored_mb"] = mb(sum((plain / key).stat().st_size for key in keys))
    return result


def _jsonl_queries(con: duckdb.DuckDBPyConnection, source: str, day: str, session: str,
                   ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    def one_day() -> Any:
        return con.execute(f"select count(*), count(distinct sessionId) from {source} "
                           f"where left(\"timestamp\", 10) = '{day}'").fetchone()

    def conversation() -> Any:
        return con.execute(f'select "timestamp", source, inputText from {source} where sessionId = ? '
                           'order by "timestamp"', [session]).fetchall()

    return one_day, conversation


def _query_results(one_day: Callable[[], Any], conversation: Callable[[], Any], runs: int) -> dict[str, Any]:
    day_seconds, (records, conversations) = timed(one_day, runs)
    turn_seconds, turns = timed(conversation, runs)
    return {"runs": runs,
            "one_day": {"seconds": day_seconds, "records": records, "conversations": conversations},
            "one_conversation": {"seconds": turn_seconds, "turns": len(turns),
                                 "in_order": [str(t[0]) for t in turns] == sorted(str(t[0]) for t in turns)}}


# --- one record set -----------------------------------------------------------------------------------


async def one_export(records: list[dict[str, Any]]) -> dict[str, Any]:
    """All the records as one export in Parquet, at the default target size and a smaller one."""
    json_bytes, pages, out = jsonl_bytes(records), pages_of(records, PAGE_RECORDS), {}
    for target in (DEFAULTS.parquet_target_mb, SMALLER_TARGET_MB):
        settings = Settings(archive=ArchiveSettings(parquet_target_mb=target))
        with scratch() as root:
            seconds = await write(root, [("exp-one", pages)], "parquet", settings)
            out[f"parquet_target_{target}mb"] = stored(root, len(records), json_bytes, seconds)
    return out


def on_one_day(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with their dates set to the first one (times of day kept): a tenant with that many
    records a day, whose files the target size and the window cut, not the date."""
    day = min(r["timestamp"] for r in records)[:10]
    return sorted(({**r, "timestamp": day + r["timestamp"][10:]} for r in records),
                  key=lambda r: (r["timestamp"], r["id"]))


async def measure(records: list[dict[str, Any]]) -> dict[str, Any]:
    json_bytes = jsonl_bytes(records)
    out: dict[str, Any] = {"records": len(records), "json_mb": mb(json_bytes),
                           "json_bytes_per_record": round(json_bytes / len(records), 1),
                           "encode_only": encode_only(records), "one_export": await one_export(records)}
    exports = daily_exports(records)
    ids = [export_id for export_id, _ in exports]
    day = exports[len(exports) // 2][0].removeprefix("exp-")
    day_records = exports[len(exports) // 2][1]
    session = day_records[len(day_records) // 2][0]["sessionId"]
    out["daily_exports"] = {"exports": len(exports)}
    with scratch() as tmp:
        for fmt in ("jsonl", "parquet"):
            root = tmp / fmt
            seconds = await write(root, exports, fmt, Settings())
            out["daily_exports"][fmt] = stored(root, len(records), json_bytes, seconds)
            out["daily_exports"][fmt]["read_back"] = await read_back(root, ids, len(records), json_bytes)
        queries = {"parquet_manifest_files": parquet_queries(tmp / "parquet", day, session),
                   "jsonl_decompressed_then_read_json": jsonl_decompressed_queries(tmp / "jsonl", day, session),
                   "jsonl_no_dictionary_in_place": jsonl_in_place_queries(tmp / "jsonl", day, session)}
    answers = {(q["one_day"]["records"], q["one_day"]["conversations"], q["one_conversation"]["turns"])
               for q in queries.values()}
    out["duckdb"] = {"query_day": day, "answers_agree": len(answers) == 1, **queries}
    return out


async def hourly_exports(records: list[dict[str, Any]], days: int = 3) -> dict[str, Any]:
    """The scheduler's default (hourly windows) in Parquet, on the first days of records: the files a small
    export makes."""
    first = sorted({conversation_date(r) for r in records})[:days]
    hours: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if conversation_date(record) in first:
            hours[record["timestamp"][:13]].append(record)
    exports = [(f"exp-{hour}", pages_of(rs, PAGE_RECORDS)) for hour, rs in sorted(hours.items())]
    kept = [r for rs in hours.values() for r in rs]
    with scratch() as root:
        seconds = await write(root, exports, "parquet", Settings())
        return {"days": days, "exports": len(exports), **stored(root, len(kept), jsonl_bytes(kept), seconds)}


# --- the run ------------------------------------------------------------------------------------------


async def main(records: int) -> None:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "python": platform.python_version(), "pyarrow": pyarrow.__version__, "duckdb": duckdb.__version__,
        "zstandard": zstandard.__version__, **machine(),
        "settings": {"records_per_page": PAGE_RECORDS, "jsonl_dictionary": "builtin",
                     "parquet_window_offsets": DEFAULTS.parquet_window_offsets,
                     "parquet_target_mb": DEFAULTS.parquet_target_mb, "smaller_target_mb": SMALLER_TARGET_MB,
                     "parquet_row_group_records": DEFAULTS.parquet_row_group_records},
        "record_sets": {},
    }
    simulator = simulator_records(records)
    results["record_sets"]["simulator"] = await measure(simulator)
    results["record_sets"]["simulator"]["parquet_hourly_exports"] = await hourly_exports(simulator)
    results["record_sets"]["simulator"]["one_export_on_one_day"] = await one_export(on_one_day(simulator))
    results["memory"] = peak_memory(pages_of(simulator, PAGE_RECORDS)[:MEMORY_PAGES])
    del simulator
    dev, copies = dev_set_records(records)
    results["record_sets"]["chat_pii_dev"] = {"copies_of_the_set": copies, **await measure(dev)}
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    results["seconds"] = round(time.perf_counter() - started)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def print_table(results: dict[str, Any]) -> None:
    print(f"{'set / layout':52} {'data/M':>7} {'meta/M':>7} {'ratio':>6} {'write':>6} {'read':>6}  (MB/s of JSON)")
    for name, result in results["record_sets"].items():
        rows = {**{f"one export, {k}": v for k, v in result["one_export"].items()},
                **{f"one export, one day, {k}": v for k, v in result.get("one_export_on_one_day", {}).items()},
                **{f"daily exports, {k}": result["daily_exports"][k] for k in ("jsonl", "parquet")},
                **({"hourly exports, parquet": result["parquet_hourly_exports"]}
                   if "parquet_hourly_exports" in result else {})}
        for label, row in rows.items():
            read = row.get("read_back", {}).get("mb_per_s", "")
            print(f"{name + ': ' + label:52} {row['data_objects_per_million_records']:>7} "
                  f"{row['metadata_objects_per_million_records']:>7} {row['compression_ratio_data']:>6} "
                  f"{row['write_mb_per_s']:>6} {read:>6}")
        encode = result["encode_only"]
        print(f"{name}: encode only, jsonl {encode['jsonl_page_segments_mb_per_s']} MB/s, "
              f"parquet {encode['parquet_one_file_mb_per_s']} MB/s")
        for label, query in result["duckdb"].items():
            if not isinstance(query, dict):
                continue  # the day, and whether the answers agree
            print(f"{name}: duckdb {label:34} one day {query['one_day']['seconds']:>6} s, "
                  f"one conversation {query['one_conversation']['seconds']:>6} s")
        print(f"{name}: the DuckDB answers agree: {result['duckdb']['answers_agree']}")
    for fmt, memory in results["memory"].items():
        print(f"archiver peak memory, {fmt}: {memory['peak_above_baseline_mb']} MB above its baseline")
    print(f"{results['seconds']} s, load {results['load_average_1m']} -> {results['load_average_1m_at_end']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=RECORDS, help="records of each set (at least)")
    asyncio.run(main(parser.parse_args().records))
