from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.iban import IbanRecognizer, mod97_valid

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"IBAN_CODE"}))


@pytest.mark.parametrize(
    ("text", "found", "normalized"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("fr14 2004 1010 0505 0001 3m02 606", "fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
        ("NL91ABNA0417164300, thanks", "NL91ABNA0417164300", "NL91ABNA0417164300"),
        # The country's length decides where it ends: the order number after it is not part of it.
        ("DE89 3704 0044 0532 0130 00 1234", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_finds_valid_ibans(text: str, found: str, normalized: str) -> None:
    assert mod97_valid(normalized)
    detections = IbanRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, normalized)]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # check digits fail
        "XX89370400440532013000",  # no such country
        "DE8937040044053201",  # too short for Germany
        "order AB12CD34EF56GH78",
    ],
)
def test_ignores_other_codes(text: str) -> None:
    assert IbanRecognizer().detect(text, NO_CONTEXT) == []


def test_takes_a_mistyped_iban_when_one_was_asked_for() -> None:
    [detection] = IbanRecognizer().detect("DE89 3704 0044 0532 0130 01", ASKED)
    assert detection.normalized == "DE89370400440532013001"
    assert detection.score < 1.0
