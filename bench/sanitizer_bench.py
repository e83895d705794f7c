"""Our PII engine against Presidio's AnalyzerEngine on the same labeled corpus, in the same run, on the
same spaCy model: words per second (one core, and our process pool on every core) and token-level
precision, recall and F2. Needs the `bench` extra (`make bench` installs it).

    .venv/bin/python -m bench.sanitizer_bench [--conversations 400]

Writes bench/results/sanitizer.json. Speed runs are pinned with CPU affinity (one core, then all); ours
start from a new engine each time (its cache of analysed texts empty), after a warm-up run, best of
REPEATS; measure on an idle machine (the load average is recorded)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import msgspec

try:
    from bench.sanitizer_presidio import Spans, presidio_engine, presidio_spans, presidio_spans_with_context
except ImportError as missing:
    raise SystemExit(f"{missing.name} is missing: pip install -e '.[bench]' (or `make bench`)") from None
from stages.sanitizer.analyzer import PiiAnalyzer
from stages.sanitizer.evaluation.corpus import ALLOW_LIST, LabeledRecord, generate
from stages.sanitizer.evaluation.run import PAGE_SIZE, predicted_spans
from stages.sanitizer.evaluation.scoring import Scores, score
from stages.sanitizer.ner import AUTO_CANDIDATES, resolve_model
from stages.sanitizer.pool import worker_count

RESULTS = Path(__file__).parent / "results" / "sanitizer.json"
REPEATS = 3
BIG_PAGE = 1000  # records per call in the CLI's batches (a stage page is about 50)
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7)


def best_seconds(run: Callable[[], object], repeats: int = REPEATS) -> float:
    run()  # warm-up: lazy imports, the first batch's allocations
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def our_seconds(
    make: Callable[[], PiiAnalyzer], labeled: Sequence[LabeledRecord], page_size: int = PAGE_SIZE
) -> float:
    """Best time of a new engine (made outside the clock) over `labeled`, page by page."""
    times = []
    for _ in range(REPEATS + 1):  # the first is a warm-up
        analyzer = make()
        try:
            started = time.perf_counter()
            predicted_spans(analyzer, labeled, page_size=page_size)
            times.append(time.perf_counter() - started)
        finally:
            analyzer.close()
    return min(times[1:])


def as_strangers(labeled: Sequence[LabeledRecord]) -> list[LabeledRecord]:
    """Each distinct text once, each a session of its own: no repeated prompt, no conversation context."""
    distinct = {r.text: r for r in labeled}.values()
    return [LabeledRecord({**r.record, "sessionId": f"alone-{i}"}, r.spans) for i, r in enumerate(distinct)]


def scores_of(labeled: Sequence[LabeledRecord], spans: Sequence[Sequence[tuple[int, int]]]) -> dict[str, Any]:
    result: Scores = score([r.text for r in labeled], [r.spans for r in labeled], spans)
    return msgspec.to_builtins(result)  # type: ignore[no-any-return]


def above(spans: Sequence[Spans], threshold: float) -> list[list[tuple[int, int]]]:
    return [[(start, end) for start, end, s in found if s >= threshold] for found in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261005)
    args = parser.parse_args()

    model = resolve_model("auto")
    if model is None:
        raise SystemExit(f"install a spaCy English model ({' or '.join(AUTO_CANDIDATES)}): the comparison needs NER")
    all_cores = os.sched_getaffinity(0)
    one_core = {min(all_cores)}
    load_before = os.getloadavg()
    labeled = generate(args.conversations, args.seed)
    texts = [r.text for r in labeled]
    words = sum(len(t.split()) for t in texts)
    distinct = as_strangers(labeled)
    distinct_words = sum(len(r.text.split()) for r in distinct)
    print(f"corpus: {len(labeled)} texts, {words} words ({len(distinct)} distinct texts, {distinct_words} words)")

    os.sched_setaffinity(0, one_core)
    ours_spans = predicted_spans(PiiAnalyzer(model, workers=1, allow_list=ALLOW_LIST), labeled)
    ours_seconds = our_seconds(lambda: PiiAnalyzer(model, workers=1, allow_list=ALLOW_LIST), labeled)
    print(f"ours, one core: {words / ours_seconds:,.0f} words/s")
    big_page_seconds = our_seconds(lambda: PiiAnalyzer(model, workers=1, allow_list=ALLOW_LIST), labeled, BIG_PAGE)
    # No text analysed twice: what is left of our speed on text that never repeats.
    distinct_seconds = our_seconds(lambda: PiiAnalyzer(model, workers=1, allow_list=ALLOW_LIST), distinct)
    print(f"ours, one core, distinct texts: {distinct_words / distinct_seconds:,.0f} words/s")

    presidio = presidio_engine(model)
    presidio_raw = presidio_spans(presidio, texts, ALLOW_LIST)
    presidio_seconds = best_seconds(lambda: presidio_spans(presidio, texts, ALLOW_LIST), repeats=1)
    print(f"presidio, one core: {words / presidio_seconds:,.0f} words/s")
    presidio_context = presidio_spans_with_context(presidio, labeled, ALLOW_LIST)

    os.sched_setaffinity(0, all_cores)
    workers = worker_count(0)
    pooled = PiiAnalyzer(model, workers=workers, allow_list=ALLOW_LIST)
    try:
        pooled_spans = predicted_spans(pooled, labeled)
    finally:
        pooled.close()
    pooled_seconds = our_seconds(lambda: PiiAnalyzer(model, workers=workers, allow_list=ALLOW_LIST), labeled)
    pooled_big_page_seconds = our_seconds(lambda: PiiAnalyzer(model, workers=workers, allow_list=ALLOW_LIST),
                                          labeled, BIG_PAGE)
    print(f"ours, pool of {workers}: {words / pooled_seconds:,.0f} words/s")
    if pooled_spans != ours_spans:
        raise SystemExit("the pool found other spans than one process: a bug")

    presidio_by_threshold = {t: scores_of(labeled, above(presidio_raw, t)) for t in THRESHOLDS}
    presidio_context_by_threshold = {t: scores_of(labeled, above(presidio_context, t)) for t in THRESHOLDS}
    best_threshold = max(THRESHOLDS, key=lambda t: presidio_by_threshold[t]["f2"])
    best_context_threshold = max(THRESHOLDS, key=lambda t: presidio_context_by_threshold[t]["f2"])
    ours_scores = scores_of(labeled, ours_spans)
    results: dict[str, Any] = {
        "command": "python -m bench.sanitizer_bench " + f"--conversations {args.conversations} --seed {args.seed}",
        "conditions": {
            "cpu": platform.processor() or platform.machine(), "cores": len(all_cores),
            "load_average_before": [round(x, 2) for x in load_before], "python": platform.python_version(),
            "spacy_model": model, "spacy": version("spacy"), "presidio_analyzer": version("presidio-analyzer"),
            "speed": f"CPU affinity pinned; warm-up run, then best of {REPEATS} (ours) or 1 (Presidio, slower)",
            "pages": f"whole sessions, about {PAGE_SIZE} records each as the stage gets them, unless named",
        },
        "corpus": {"conversations": args.conversations, "seed": args.seed, "texts": len(labeled), "words": words,
                   "distinct_texts": len(distinct), "distinct_words": distinct_words},
        "speed_words_per_second": {
            "ours_one_core": round(words / ours_seconds),
            "ours_one_core_distinct_texts": round(distinct_words / distinct_seconds),
            f"ours_pool_{workers}_workers": round(words / pooled_seconds),
            f"ours_one_core_pages_of_{BIG_PAGE}": round(words / big_page_seconds),
            f"ours_pool_{workers}_workers_pages_of_{BIG_PAGE}": round(words / pooled_big_page_seconds),
            "presidio_one_core": round(words / presidio_seconds),
            "ratio_one_core": round(presidio_seconds / ours_seconds, 2),
            "ratio_distinct_texts_vs_presidio_on_the_corpus": round(
                (distinct_words / distinct_seconds) / (words / presidio_seconds), 2),
            f"ratio_pool_{workers}_workers_vs_presidio_one_core": round(presidio_seconds / pooled_seconds, 2),
        },
        "accuracy": {
            "ours": ours_scores,
            "presidio_default": {"score_threshold": 0.0, **presidio_by_threshold[0.0]},
            "presidio_best_threshold": {"score_threshold": best_threshold, **presidio_by_threshold[best_threshold]},
            "presidio_with_bot_turn_as_context_best_threshold": {
                "score_threshold": best_context_threshold, **presidio_context_by_threshold[best_context_threshold]},
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name, scores in results["accuracy"].items():
        print(f"{name}: P {scores['precision']} R {scores['recall']} F2 {scores['f2']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
