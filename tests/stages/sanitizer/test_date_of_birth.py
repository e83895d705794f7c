from __future__ import annotations

import pytest

from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.detector import MIN_SCORE
from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.date_of_birth import DateOfBirthRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"DATE_OF_BIRTH"}))
RECOGNIZER = DateOfBirthRecognizer()


def found(text: str, context: TextContext = NO_CONTEXT) -> list[tuple[str, str]]:
    """(text, normalized value) of what the engine keeps: the longest where several overlap."""
    detections = resolve_overlaps(d for d in RECOGNIZER.detect(text, context) if d.score >= MIN_SCORE)
    return [(text[d.start : d.end], d.normalized) for d in detections]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I was born on March 14, 1985", "en", [("March 14, 1985", "1985-03-14")]),
        ("DOB: 03/14/1985", "en", [("03/14/1985", "1985-03-14")]),
        ("date of birth 14.03.1985", "en", [("14.03.1985", "1985-03-14")]),
        ("birthday 1985-03-14", "en", [("1985-03-14", "1985-03-14")]),
        ("born the 4th of July 1976", "en", [("the 4th of July 1976", "1976-07-04")]),
        ("geboren am 18.02.1977", "de", [("18.02.1977", "1977-02-18")]),
        ("Pass Y7302461, geb. 9.2.83", "de", [("9.2.83", "1983-02-09")]),
        ("Geburtsdatum: 21. Oktober 1952", "de", [("21. Oktober 1952", "1952-10-21")]),
        ("Frau Keller, am 21. Oktober 1952 geboren", "de", [("21. Oktober 1952", "1952-10-21")]),
        ("née le 13 mars 1982 à Lyon", "fr", [("13 mars 1982", "1982-03-13")]),
        ("date de naissance : 17/08/1991", "fr", [("17/08/1991", "1991-08-17")]),
        ("nacido el 5 de mayo de 1990", "es", [("5 de mayo de 1990", "1990-05-05")]),
        ("fecha de nacimiento 26-09-1994", "es", [("26-09-1994", "1994-09-26")]),
        ("nato il 3 aprile 1975", "it", [("3 aprile 1975", "1975-04-03")]),
        ("data di nascita 12/01/1968", "it", [("12/01/1968", "1968-01-12")]),
        ("geboren op 12 januari 1968", "nl", [("12 januari 1968", "1968-01-12")]),
        ("geboortedatum 14-02-1997", "nl", [("14-02-1997", "1997-02-14")]),
        ("urodzona 3 maja 1980", "pl", [("3 maja 1980", "1980-05-03")]),
        ("data urodzenia 1983-10-09", "pl", [("1983-10-09", "1983-10-09")]),
        ("born March 14", "en", [("March 14", "--03-14")]),
        ("I was born in 1985", "en", [("1985", "1985")]),
        ("mein Sohn ist im März geboren", "de", [("März", "--03")]),
        ("my son Leo, born 5 August 2023", "en", [("5 August 2023", "2023-08-05")]),
    ],
)
def test_a_date_near_a_birth_cue(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert found(text, TextContext(language=language)) == expected


def test_numeric_dates_are_read_day_first_but_in_english_month_first() -> None:
    english, german = TextContext(language="en"), TextContext(language="de")
    assert found("born 3/4/85", english) == [("3/4/85", "1985-03-04")]
    assert found("born 30/4/85", english) == [("30/4/85", "1985-04-30")]
    assert found("born 3.4.85", english) == [("3.4.85", "1985-04-03")]  # dots: day first everywhere
    assert found("geboren 3/4/85", german) == [("3/4/85", "1985-04-03")]


def test_a_date_in_a_persons_record_before_their_address() -> None:
    text = "Gespeichert sind: Jan Kowalski, 08.04.1976, Lindenstraße 5, 10115 Berlin."
    assert found(text) == [("08.04.1976", "1976-04-08")]


@pytest.mark.parametrize(
    "text",
    [
        "my order from March 14, 2026 is late",
        "delivered 03/14/1985",
        "born 31/02/1985",
        "born in 2199-01-01",
        "Der Termin ist am 23. Oktober um 9 Uhr.",
        "Un technicien viendra le jeudi 18 juillet.",
        "Tiene cita el lunes 14 de octubre a las 11:20.",
        "la consegna è prevista il 3 aprile 2025",
        "de levering is op 12 januari",
        "dostawa 3 maja",
        "I was born in Leeds. The parcel came on 3.5.2024.",
        "wann sind Sie geboren?",  # "Sie" is no month
        "next tuesday works",
        "version 8.2.4",
    ],
)
def test_other_dates_are_no_birth_dates(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("it's 14 March 1985", ["1985-03-14"]),
        ("march 14", ["--03-14"]),
        ("02/29/1992", ["1992-02-29"]),
        ("march 17th 1983", ["1983-03-17"]),
        ("1979 may 22nd", ["1979-05-22"]),
        ("the 6th of november 79", ["1979-11-06"]),
        ("12.3.1990", ["1990-03-12"]),
        ("12 3 1990", ["1990-03-12"]),
        ("30. august 58", ["1958-08-30"]),
        ("neunter zehnter 1987", ["1987-10-09"]),
        ("twenty third of june 1964", ["1964-06-23"]),
        ("Ben 11.07.2015, Ida 02.12.2018", ["2015-07-11", "2018-12-02"]),
        ("1985", ["1985"]),
    ],
)
def test_an_answer_to_a_birth_date_question(text: str, normalized: list[str]) -> None:
    assert [n for _, n in found(text, ASKED)] == normalized
