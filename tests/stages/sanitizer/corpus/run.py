"""Our engine over the corpus, page by page as the stage gets records, and its scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stages.sanitizer.analyzer import PiiAnalyzer
from tests.stages.sanitizer.corpus.chats import LabeledRecord, records_of
from tests.stages.sanitizer.corpus.scoring import Scores, score

PAGE_SIZE = 50  # records per call, as the stage gets them from a page


def pages(records: Sequence[dict[str, Any]], size: int = PAGE_SIZE) -> list[tuple[int, int]]:
    """(first, end) of pages of whole sessions, each `size` records or just over: the engine reads a
    question and its answer together only if they share a page (see `context.expectations`)."""
    bounds = []
    first = 0
    for index in range(1, len(records) + 1):
        if index == len(records) or (
                index - first >= size and records[index]["sessionId"] != records[index - 1]["sessionId"]):
            bounds.append((first, index))
            first = index
    return bounds


def predicted_spans(analyzer: PiiAnalyzer, labeled: Sequence[LabeledRecord]) -> list[list[tuple[int, int]]]:
    """For each record, the spans our engine finds in its inputText, a page at a time."""
    records = records_of(labeled)
    spans: list[list[tuple[int, int]]] = [[] for _ in records]
    for first, end in pages(records):
        for finding in analyzer.analyze_records(records[first:end], ()):
            if finding.leaf.path == ("inputText",):
                spans[first + finding.record] = [(d.start, d.end) for d in finding.detections]
    return spans


def evaluate(analyzer: PiiAnalyzer, labeled: Sequence[LabeledRecord]) -> Scores:
    return score([r.text for r in labeled], [r.spans for r in labeled], predicted_spans(analyzer, labeled))
