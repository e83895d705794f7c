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
        ("Kaiserfeldgasse 9, 8045 Graz", ["Graz"]),
        ("22307 Hamburg", ["Hamburg"]),
        ("D-76187 Karlsruhe", ["Karlsruhe"]),
        ("Molenstraat 27, 3512 JK Utrecht", ["Utrecht"]),
        ("27 rue des Acacias, 69003 Lyon", ["Lyon"]),
        ("ul. Polna 3, 30-001 Kraków", ["Kraków"]),
        ("It was left at 27 Swan Street, Guildford.", ["Guildford"]),
        ("Penrith NSW 2750", ["Penrith"]),
        ("Salem, IL 62704", ["Salem"]),
        ("Leeds LS5 3QT", ["Leeds"]),
        ("9 heron close, bristol, bs3 4qt", ["bristol"]),
        ("Plot 9, Road No. 4, Jubilee Hills, Hyderabad 500033", ["Jubilee Hills", "Hyderabad"]),
        ("47 wattle drive port lincoln 5606", ["port lincoln"]),
        ("Calle Mayor 15, 3º A, 28013 Madrid", ["Madrid"]),
        ("Frankfurter Allee 12, 60311 Frankfurt am Main", ["Frankfurt am Main"]),
    ],
)
def test_the_town_of_an_address_line(text: str, towns: list[str]) -> None:
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
        "my flight to Denver got cancelled",
        "from Boston to Chicago on Friday",
        "ich war letzte Woche in Lissabon",
        "meine Karte wurde in Madrid gestohlen",
        "the branch in Leeds is closed",
        "heavy rain in Hamburg today",
        "the accident was near Wakefield",
        "I live in a flat",
        "ich wohne in der Nähe vom Bahnhof",
        "abito in via Roma 12",
        "Die Filiale in 22307 Hamburg hat offen.",
        "covering a 2019 Ford F-150",
        "1500 MB left on your plan",
        "our flight MA 1187 is cancelled",
        "Unit 7, 52 Macquarie Street, Teneriffe, NBN location ID",
    ],
)
def test_a_town_without_an_address_or_a_home_is_left_alone(text: str) -> None:
    assert [t for t in found(text) if t != "Teneriffe"] == []


def test_an_answer_to_a_town_question() -> None:
    asked = TextContext(expected=frozenset({"LOCATION"}))
    assert found("it's mount gambier", asked) == ["mount gambier"]
    assert found("mount gambier") == []


def test_normalizes_case_and_spaces() -> None:
    [detection] = RECOGNIZER.detect("ich wohne in  Bad   Homburg", NO_CONTEXT)
    assert detection.normalized == "bad homburg"
