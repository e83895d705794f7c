from __future__ import annotations

import pytest

from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.detector import MIN_SCORE
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.postal_code import PostalCodeRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"POSTAL_CODE"}))
RECOGNIZER = PostalCodeRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[tuple[str, str]]:
    """(text, normalized value) of what the engine keeps: the longest where several overlap."""
    detections = resolve_overlaps(d for d in RECOGNIZER.detect(text, context) if d.score >= MIN_SCORE)
    return [(text[d.start : d.end], d.normalized) for d in detections]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Shapes of their own, in capitals.
        ("London SW1A 1AA", [("SW1A 1AA", "SW1A1AA")]),
        ("Ottawa K1A 0B1", [("K1A 0B1", "K1A0B1")]),
        ("Eircode D02 X285", [("D02 X285", "D02X285")]),
        ("Springfield 62704-1234", [("62704-1234", "62704-1234")]),
        ("postbus in 1017 CT", [("1017 CT", "1017CT")]),
        # On an address line, every format.
        ("Mozartstraße 17, 80336 München", [("80336", "80336")]),
        ("6020 Innsbruck", [("6020", "6020")]),
        ("A-1170 Wien", [("A-1170", "A-1170")]),
        ("Penrith NSW 2750", [("2750", "2750")]),
        ("Salem, IL 62704", [("62704", "62704")]),
        ("12 banksia crescent port lincoln 5606", [("5606", "5606")]),
        ("9 Lake Temple Road, Kolkata 700029", [("700029", "700029")]),
        ("ul. Polna 3, 30-001 Kraków", [("30-001", "30-001")]),
        ("Molenstraat 27, 3512 jk utrecht", [("3512 jk", "3512JK")]),
        ("9 heron close, bristol, bs3 4qt", [("bs3 4qt", "BS34QT")]),
        # A bare number after a cue, in every language.
        ("my zip code is 94105", [("94105", "94105")]),
        ("PLZ 10115 Berlin", [("10115", "10115")]),
        ("93047 ist meine Postleitzahl", [("93047", "93047")]),
        ("code postal 75011", [("75011", "75011")]),
        ("mi código postal es 28013", [("28013", "28013")]),
        ("il CAP è 20121", [("20121", "20121")]),
        ("postcode 3511 lk", [("3511 lk", "3511LK")]),
        ("kod pocztowy 00-950", [("00-950", "00-950")]),
        ("pin code 560 034", [("560 034", "560034")]),
        ("postcode is 4 1 0 2", [("4 1 0 2", "4102")]),
    ],
)
def test_finds_postal_codes(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ordered 94105 units",
        "total $12345",
        "sw1a 1aa",  # lower case, nothing else says postcode
        "our flight QF 2043 is cancelled",
        "in 2019 I bought a 2018 Ford",
        "the meter shows 05293",
        "call 0341 4455 667",
        "Ich habe 1500 Franken überwiesen.",
        "Reihe 18, Platz 4",
        "2415 NW 63rd St",
        "1500 MB left on your plan",
        "Numer 512 784 093 został aktywowany",
        "Die Filiale in 22083 Hamburg hat offen.",
        "Visit our store at 12 Regent Street, London W1B 5TD.",
    ],
)
def test_other_numbers_are_no_postal_codes(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Elm Street\nSpringfield\nUnited States 62704", [("62704", "62704")]),
        ("Ines Caldeira\\n412 Vinohradská 1180\\n Apt. 7\\n Kolín\\n\\n Czech Republic 28002", [("28002", "28002")]),
        ("Sæmundur Jónsson\n57 Ægisíða 12 Apt. 3\nReykjavík\n107", [("107", "107")]),  # short only in a block
        ("Moravská 18\nSuite 4\nBrno 602 00", [("602 00", "60200")]),
        ("PSC 4120, Box 2231\nAPO AE 09012", [("09012", "09012")]),
        ("ZIP: 113 51", [("113 51", "11351")]),
    ],
)
def test_finds_postal_codes_of_multi_line_addresses(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Version 12\nBuild 2031", "Order 5512\nQuantity 3\nTotal 40", "Room 12\nFloor 3", "Tickets: 2\nPrice 40"],
)
def test_numbers_on_lines_of_their_own_are_no_postal_codes(text: str) -> None:
    assert found(text) == []

@pytest.mark.parametrize(
    ("text", "normalized"),
    [("94105", "94105"), ("it's sw1a 1aa", "SW1A1AA"), ("r g 1 3 j x", "RG13JX"), ("2 6 1 7", "2617"),
     ("6020", "6020"), ("61-245", "61-245"), ("560034", "560034")],
)
def test_an_answer_to_a_postcode_question(text: str, normalized: str) -> None:
    assert normalized in [n for _, n in found(text, ASKED)]
