from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.vehicle_plate import VehiclePlateRecognizer

from .recognizing import kept

RECOGNIZER = VehiclePlateRecognizer()


def found(text: str, language: str = "en", expected: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return kept(RECOGNIZER, text, TextContext(expected=expected, language=language))


@pytest.mark.parametrize(
    ("language", "text", "value", "normalized"),
    [
        ("en", "the other car was WR51 KLM", "WR51 KLM", "WR51KLM"),  # UK
        ("en", "a white van, KA 01 AB 1234", "KA 01 AB 1234", "KA01AB1234"),  # India
        ("en", "it was 191-D-52731", "191-D-52731", "191D52731"),  # Ireland
        ("en", "a Polo, ND 123-456", "ND 123-456", "ND123456"),  # South Africa
        ("de", "ein Golf mit M-AB 1234", "M-AB 1234", "MAB1234"),
        ("de", "der Wagen HH XY 77E", "HH XY 77E", "HHXY77E"),
        ("fr", "la Clio AB-123-CD", "AB-123-CD", "AB123CD"),
        ("es", "un Ibiza 6285 KXM", "6285 KXM", "6285KXM"),
        ("it", "la Panda FG 318 KD", "FG 318 KD", "FG318KD"),
    ],
)
def test_national_formats_need_no_cue(language: str, text: str, value: str, normalized: str) -> None:
    assert found(text, language) == [(value, normalized)]


@pytest.mark.parametrize(
    ("language", "text", "value"),
    [
        ("en", "covering a 2021 Ford Ranger with plate 5KRT294", "5KRT294"),
        ("en", "my rego is ABC123", "ABC123"),
        ("en", "i think the reg was KT71", "KT71"),  # a partial plate
        ("de", "Kennzeichen ZH 482193", "ZH 482193"),
        ("fr", "plaque d'immatriculation 482 BKY 75", "482 BKY 75"),
        ("es", "la matrícula es 7731lkm", "7731lkm"),
        ("it", "targa ab123cd", "ab123cd"),
        ("nl", "kenteken 12-ABC-3", "12-ABC-3"),
        ("pl", "numer rejestracyjny WA 12345", "WA 12345"),
    ],
)
def test_other_formats_after_a_cue(language: str, text: str, value: str) -> None:
    assert [v for v, _ in found(text, language)] == [value]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "flight FG 318 to Nice"),
        ("en", "The plate broke at 10:30 on 12.03.2024"),
        ("en", "London SW1A 2AA"),
        ("de", "Flug LH 2034, Gate A23"),
        ("fr", "rendez-vous le 12-03-2024"),
        ("es", "el total es 1234 EUR"),
        ("it", "Il treno AB 123 CD parte"),  # a train word vetoes even a plate's shape
        ("nl", "vlucht KL 1001"),
        ("pl", "lot LO 3925"),
        ("en", "ab12 cde"),  # in lower case a shape alone says little
    ],
)
def test_what_is_no_plate(language: str, text: str) -> None:
    assert found(text, language) == []


def test_any_short_code_when_the_bot_asked_for_the_plate() -> None:
    asked = frozenset({"VEHICLE_PLATE"})
    assert found("KAV306", expected=asked) == [("KAV306", "KAV306")]
    assert found("KAV306") == []  # a flight number's shape
