"""Presidio's AnalyzerEngine as the yardstick: its default recognizers, on the same spaCy model as ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

from stages.sanitizer.evaluation.corpus import LabeledRecord

# Presidio's email recognizer asks tldextract, which fetches the public suffix list on first use; offline,
# it must use the snapshot it ships.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

BATCH_SIZE = 256  # BatchAnalyzerEngine's nlp.pipe batch: its fastest mode (the default is 1)
Spans = list[tuple[int, int, float]]  # (start, end, score)


def presidio_engine(model: str) -> AnalyzerEngine:
    configuration = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    nlp_engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def presidio_spans(engine: AnalyzerEngine, texts: Sequence[str], allow_list: Sequence[str]) -> list[Spans]:
    """Every result of every default recognizer, with its score (threshold 0, Presidio's default)."""
    batch = BatchAnalyzerEngine(analyzer_engine=engine)
    results: Any = batch.analyze_iterator(list(texts), language="en", batch_size=BATCH_SIZE,
                                          allow_list=list(allow_list))
    return [[(r.start, r.end, r.score) for r in found] for found in results]


def presidio_spans_with_context(engine: AnalyzerEngine, labeled: Sequence[LabeledRecord],
                                allow_list: Sequence[str]) -> list[Spans]:
    """As `presidio_spans`, one text at a time, each user turn given the words of the bot turn before it as
    `context`: the most conversation context Presidio's API can take."""
    spans = []
    previous_bot = ""
    for item in labeled:
        source = item.record["source"]
        context = previous_bot.lower().split() if source == "user" else None
        found = engine.analyze(item.text, language="en", context=context, allow_list=list(allow_list))
        spans.append([(r.start, r.end, r.score) for r in found])
        previous_bot = item.text if source == "bot" else previous_bot
    return spans
