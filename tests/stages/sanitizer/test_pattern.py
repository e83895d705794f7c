from __future__ import annotations

import pytest

from shared.user_patterns import UserPattern
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.pattern import PatternRecognizer

NO_CONTEXT = TextContext()
ORDER = PatternRecognizer("ORDER_ID", UserPattern(r"\s?ORD-\d{5}\s?|x*"))


@pytest.mark.parametrize(
    ("text", "found"),
    [("order ORD-12345 shipped", ["ORD-12345"]), ("ORD-11111,ORD-22222", ["ORD-11111", "ORD-22222"])],
)
def test_finds_matches_without_surrounding_whitespace(text: str, found: list[str]) -> None:
    detections = ORDER.detect(text, NO_CONTEXT)
    assert [text[d.start : d.end] for d in detections] == found
    assert [d.normalized for d in detections] == found
    assert {d.entity_type for d in detections} == {"ORDER_ID"}


@pytest.mark.parametrize("text", ["ORD-1234", "no order here", ""])
def test_ignores_non_matches_and_empty_matches(text: str) -> None:
    assert ORDER.detect(text, NO_CONTEXT) == []
