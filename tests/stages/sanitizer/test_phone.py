from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.phone import PhoneRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"PHONE_NUMBER"}))


@pytest.mark.parametrize(
    ("text", "found", "e164"),
    [
        ("reach me on 202-555-0143 tomorrow", "202-555-0143", "+12025550143"),
        ("my number: (415) 555 2671", "(415) 555 2671", "+14155552671"),
        ("+1 650 253 0000", "+1 650 253 0000", "+16502530000"),
        ("UK office 020 7946 0958", "020 7946 0958", "+442079460958"),
        ("+44 7911 123456 is my mobile", "+44 7911 123456", "+447911123456"),
        ("Berlin: +49 30 901820", "+49 30 901820", "+4930901820"),
        ("Paris +33 1 42 68 53 00", "+33 1 42 68 53 00", "+33142685300"),
        ("ruf an: 0151 23456789", "0151 23456789", "+4915123456789"),
    ],
)
def test_finds_numbers_in_several_formats_and_regions(text: str, found: str, e164: str) -> None:
    detections = PhoneRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, e164)]


@pytest.mark.parametrize(
    "text",
    [
        "order 30123456 shipped",
        "it happened on 2024-06-04T10:15:02",
        "ticket 12345",
        "(555) 123-4567",  # 555-1xxx is no real number, and nothing says "phone"
        "version 1.2.3.4.5.6.7",
    ],
)
def test_ignores_numbers_that_are_no_phone_numbers(text: str) -> None:
    assert PhoneRecognizer().detect(text, NO_CONTEXT) == []


@pytest.mark.parametrize(
    ("text", "context"),
    [("(555) 123-4567", ASKED), ("call me on (555) 123-4567", NO_CONTEXT)],
)
def test_accepts_merely_possible_numbers_when_something_says_phone(text: str, context: TextContext) -> None:
    [detection] = PhoneRecognizer().detect(text, context)
    assert text[detection.start : detection.end] == "(555) 123-4567"
    # Not a real US number; the first region where it is valid (GB: 055...) decides the country.
    assert detection.normalized == "+445551234567"


def test_regions_are_configurable() -> None:
    assert PhoneRecognizer(regions=["US"]).detect("020 7946 0958", NO_CONTEXT) == []
    assert PhoneRecognizer(regions=["GB"]).detect("020 7946 0958", NO_CONTEXT) != []
