from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.city import CityRecognizer

from .recognizing import kept

NO_CONTEXT = TextContext()
RECOGNIZER = CityRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[str]:
    return [value for value, _ in kept(RECOGNIZER, text, context)]


@pytest.mark.parametrize(
    ("text", "towns"),
    [
        ("Lerchenfeldgasse 14, 9020 Klagenfurt", ["Klagenfurt"]),
        ("22083 Hamburg", ["Hamburg"]),
        ("D-93047 Regensburg", ["Regensburg"]),
        ("Molenstraat 27, 6511 HK Nijmegen", ["Nijmegen"]),
        ("27 rue des Acacias, 69003 Lyon", ["Lyon"]),
        ("ul. Polna 3, 30-001 Kraków", ["Kraków"]),
        ("It was left at 14 Pelican Road, Fremantle.", ["Fremantle"]),
        ("Penrith NSW 2750", ["Penrith"]),
        ("Salem, IL 62704", ["Salem"]),
        ("Leeds LS7 4RJ", ["Leeds"]),
        ("9 heron close, bristol, bs3 4qt", ["bristol"]),
        ("Plot 9, Road No. 4, Jubilee Hills, Hyderabad 500033", ["Jubilee Hills", "Hyderabad"]),
        ("12 banksia crescent port lincoln 5606", ["port lincoln"]),
        ("Calle Mayor 15, 3º A, 28013 Madrid", ["Madrid"]),
        ("Frankfurter Allee 12, 60311 Frankfurt am Main", ["Frankfurt am Main"]),
    ],
)
def test_the_town_of_an_address_line(text: str, towns: list[str]) -> None:
    assert found(text) == towns


@pytest.mark.parametrize(
    ("text", "towns"),
    [
        ("412 Vinohradská 1180\nApt. 7\nKolín\nCzech Republic 28002", ["Kolín", "Czech Republic"]),
        ("Tomás Ferrer\\n57 Ægisíða 12 Apt. 3\\nReykjavík\\n107", ["Reykjavík"]),
        ("sent to 14 Orchard Road Apt. 3 Millbrook", ["Millbrook"]),  # after a flat, no comma is needed
        ("vivo en Calle Eras 47, La Cabrera", ["La Cabrera"]),
        ("I moved to 8 Birch Lane\nBest Regards\nTom", []),
        ("12 Elm Street\nThanks a lot", []),
    ],
)
def test_the_town_of_a_multi_line_address(text: str, towns: list[str]) -> None:
    assert found(text) == towns

@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("I live in Bristol with my partner", "Bristol"),
        ("we moved to Port Lincoln last year", "Port Lincoln"),
        ("i live in port lincoln now", "port lincoln"),
        ("new place in mount gambier from monday", "mount gambier"),
        ("ich wohne in Köln", "Köln"),
        ("ich wohne seit zehn Jahren in Bad Homburg", "Bad Homburg"),
        ("wir sind nach Leipzig gezogen", "Leipzig"),
        ("j'habite à Nantes depuis mai", "Nantes"),
        ("vivo en Sevilla", "Sevilla"),
        ("abito a Torino", "Torino"),
        ("ik woon in Utrecht", "Utrecht"),
        ("mieszkam w Gdańsku", "Gdańsku"),
        ("Wohnort: Lüneburg", "Lüneburg"),
    ],
)
def test_the_town_where_someone_lives(text: str, town: str) -> None:
    assert found(text) == [town]


@pytest.mark.parametrize(
    "text",
    [
        "the flight to Phoenix was scrapped",
        "from Dallas to Chicago on Friday",
        "ich war letzte Woche in Porto",
        "in Madrid wurde mir das Handy geklaut",
        "the branch in Leeds is closed",
        "heavy rain in Hamburg today",
        "the accident was near Doncaster",
        "I live in a flat",
        "ich wohne in der Nähe vom Bahnhof",
        "abito in via Roma 12",
        "Die Filiale in 22083 Hamburg hat offen.",
        "covering a 2021 Toyota Hilux",
        "1500 MB left on your plan",
        "our flight QF 2043 is cancelled",
        "Unit 3, 18 Merthyr Road, New Farm, NBN location ID",
    ],
)
def test_a_town_without_an_address_or_a_home_is_left_alone(text: str) -> None:
    assert [t for t in found(text) if t != "New Farm"] == []


def test_an_answer_to_a_town_question() -> None:
    asked = TextContext(expected=frozenset({"LOCATION"}))
    assert found("it's mount gambier", asked) == ["mount gambier"]
    assert found("mount gambier") == []


def test_normalizes_case_and_spaces() -> None:
    [detection] = RECOGNIZER.detect("ich wohne in  Bad   Homburg", NO_CONTEXT)
    assert detection.normalized == "bad homburg"
