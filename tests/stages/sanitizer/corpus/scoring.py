"""Token-level scores, PII vs not, as presidio-evaluator reports them: a token (a run of letters and
digits, or one other non-space character) is PII if a labeled span covers any of it, and found if a
predicted span does. Precision, recall, F2 (recall weighs four times as much: a missed value leaks, a
false alarm only hides a word), and per entity type the share of its tokens found (by a span of any
type: what matters is that the value is gone)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from tests.stages.sanitizer.corpus.chats import Span

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]|_")


class Scores(msgspec.Struct, frozen=True):
    precision: float
    recall: float
    f2: float
    true_positives: int
    false_positives: int
    false_negatives: int
    recall_per_type: dict[str, float]
    tokens_per_type: dict[str, int]


def tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


def score(
    texts: Sequence[str], gold: Sequence[Sequence[Span]], predicted: Sequence[Iterable[tuple[int, int]]]
) -> Scores:
    """`gold[i]`: the labeled spans of `texts[i]`; `predicted[i]`: the (start, end) of each span found in it."""
    tp = fp = fn = 0
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text, labeled, spans in zip(texts, gold, predicted, strict=True):
        spans = list(spans)
        for start, end in tokens(text):
            label = next((s.entity_type for s in labeled if start < s.end and s.start < end), None)
            hit = any(start < e and s < end for s, e in spans)
            if label is not None:
                total[label] += 1
                found[label] += hit
                tp += hit
                fn += not hit
            elif hit:
                fp += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    return Scores(
        precision=round(precision, 4), recall=round(recall, 4), f2=round(f2, 4), true_positives=tp,
        false_positives=fp, false_negatives=fn,
        recall_per_type={t: round(found[t] / total[t], 4) for t in sorted(total)},
        tokens_per_type=dict(sorted(total.items())),
    )
