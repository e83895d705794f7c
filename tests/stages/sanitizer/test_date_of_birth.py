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
        ("geboren am 24.06.1986", "de", [("24.06.1986", "1986-06-24")]),
        ("Pass X4182206, geb. 4.7.81", "de", [("4.7.81", "1981-07-04")]),
        ("Geburtsdatum: 7. März 1949", "de", [("7. März 1949", "1949-03-07")]),
        ("Frau Keller, am 7. März 1949 geboren", "de", [("7. März 1949", "1949-03-07")]),
        ("née le 13 mars 1982 à Lyon", "fr", [("13 mars 1982", "1982-03-13")]),
        ("date de naissance : 22/12/1993", "fr", [("22/12/1993", "1993-12-22")]),
        ("nacido el 5 de mayo de 1990", "es", [("5 de mayo de 1990", "1990-05-05")]),
        ("fecha de nacimiento 30-11-1995", "es", [("30-11-1995", "1995-11-30")]),
        ("nato il 3 aprile 1975", "it", [("3 aprile 1975", "1975-04-03")]),
        ("data di nascita 12/01/1968", "it", [("12/01/1968", "1968-01-12")]),
        ("geboren op 12 januari 1968", "nl", [("12 januari 1968", "1968-01-12")]),
        ("geboortedatum 30-11-1995", "nl", [("30-11-1995", "1995-11-30")]),
        ("urodzona 3 maja 1980", "pl", [("3 maja 1980", "1980-05-03")]),
        ("data urodzenia 1986-06-24", "pl", [("1986-06-24", "1986-06-24")]),
        ("born March 14", "en", [("March 14", "--03-14")]),
        ("I was born in 1985", "en", [("1985", "1985")]),
        ("mein Sohn ist im März geboren", "de", [("März", "--03")]),
        ("my son Leo, born 2 March 2024", "en", [("2 March 2024", "2024-03-02")]),
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
    text = "Übermittelt wurden: Jan Kowalski, 16.12.1979, Lindenstraße 5, 10115 Berlin."
    assert found(text) == [("16.12.1979", "1979-12-16")]


@pytest.mark.parametrize(
    "text",
    [
        "my order from March 14, 2026 is late",
        "delivered 03/14/1985",
        "born 31/02/1985",
        "born in 2199-01-01",
        "Der Termin ist am 12. September um 9 Uhr.",
        "Un technicien passera le mardi 11 juin.",
        "Hay cita el jueves 20 de junio a las 9:40.",
        "la consegna è prevista il 3 aprile 2025",
        "de levering is op 12 januari",
        "dostawa 3 maja",
        "I was born in Leeds. The parcel came on 3.5.2024.",
        "wann sind Sie geboren?",  # "Sie" is no month
        "next tuesday works",
        "version 7.3.1",
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
        ("march 9th 1981", ["1981-03-09"]),
        ("1979 may 22nd", ["1979-05-22"]),
        ("the 4th of october 88", ["1988-10-04"]),
        ("12.3.1990", ["1990-03-12"]),
        ("12 3 1990", ["1990-03-12"]),
        ("30. august 58", ["1958-08-30"]),
        ("zwölfter dritter 1990", ["1990-03-12"]),
        ("twenty third of june 1964", ["1964-06-23"]),
        ("Emil 03.05.2016, Lotta 29.11.2019", ["2016-05-03", "2019-11-29"]),
        ("1985", ["1985"]),
    ],
)
def test_an_answer_to_a_birth_date_question(text: str, normalized: list[str]) -> None:
    assert [n for _, n in found(text, ASKED)] == normalized
