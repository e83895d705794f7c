from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.street_address import StreetAddressRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"STREET_ADDRESS"}))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I live at 42 Elm Street.", "42 Elm Street"),
        ("ship to 1600 Pennsylvania Ave NW", "1600 Pennsylvania Ave"),
        ("221B Baker St", "221B Baker St"),
        ("send it to 7 oak ln please", "7 oak ln"),
        ("350 Fifth Avenue, New York, NY 10118", "350 Fifth Avenue, New York, NY 10118"),
        ("12 W 34th St, Apt 5B, Salem, IL 62704-1234", "12 W 34th St, Apt 5B, Salem, IL 62704-1234"),
        ("100 Old Mill Road, Boston, MA", "100 Old Mill Road, Boston, MA"),
        ("9 Sunset Blvd", "9 Sunset Blvd"),
    ],
)
def test_finds_street_addresses(text: str, found: str) -> None:
    detections = StreetAddressRecognizer().detect(text, NO_CONTEXT)
    assert [text[d.start : d.end] for d in detections] == [found]


@pytest.mark.parametrize(
    "text",
    [
        "I have 3 dogs in the way",
        "it took 2 days to drive",
        "Baker Street is nice",
        "walk 5 minutes down the road",
        "order 12345 arrived",
    ],
)
def test_ignores_other_text(text: str) -> None:
    assert StreetAddressRecognizer().detect(text, NO_CONTEXT) == []


def test_normalizes_case_and_spaces() -> None:
    [detection] = StreetAddressRecognizer().detect("42  ELM   Street", NO_CONTEXT)
    assert detection.normalized == "42 elm street"


def test_when_asked_takes_the_rest_of_the_line_from_the_house_number() -> None:
    text = "sure, it's 12 baker, london NW1 6XE."
    assert StreetAddressRecognizer().detect(text, NO_CONTEXT) == []
    detections = StreetAddressRecognizer().detect(text, ASKED)
    assert [text[d.start : d.end] for d in detections] == ["12 baker, london NW1 6XE"]
