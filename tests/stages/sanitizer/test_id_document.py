from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.id_document import IdDocumentRecognizer, checked, lettered

from .recognizing import kept

RECOGNIZER = IdDocumentRecognizer()


def found(text: str, language: str = "en", expected: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return kept(RECOGNIZER, text, TextContext(expected=expected, language=language))


@pytest.mark.parametrize(
    ("language", "text", "value", "normalized"),
    [
        ("en", "my NI number is JG 10 37 42 B", "JG 10 37 42 B", "JG103742B"),
        ("en", "NHS number 401 023 0002", "401 023 0002", "4010230002"),
        ("en", "aadhaar 7392 0418 0002", "7392 0418 0002", "739204180002"),
        ("en", "PAN BKRPS4471Q", "BKRPS4471Q", "BKRPS4471Q"),
        ("en", "SIN 527 193 841", "527 193 841", "527193841"),
        ("en", "ID number 8807235124088", "8807235124088", "8807235124088"),
        ("en", "PPS 6283741F", "6283741F", "6283741F"),
        ("de", "Steuer-ID 57 318 492 619", "57 318 492 619", "57318492619"),
        ("de", "meine Sozialversicherungsnummer ist 1008 230788", "1008 230788", "1008230788"),
        ("de", "Personalausweis L01X00T47", "L01X00T47", "L01X00T47"),
        ("fr", "mon passeport est le 19AV52341", "19AV52341", "19AV52341"),
        ("fr", "permis de conduire n° 120375100234", "120375100234", "120375100234"),
        ("es", "DNI 61829374-S", "61829374-S", "61829374S"),
        ("es", "mi NIE es Y5038127Z", "Y5038127Z", "Y5038127Z"),
        ("it", "il codice fiscale è VRDLGU72M04F205T", "VRDLGU72M04F205T", "VRDLGU72M04F205T"),
        ("it", "patente U1F455712K", "U1F455712K", "U1F455712K"),
        ("nl", "mijn BSN is 238194607", "238194607", "238194607"),
        ("nl", "rijbewijs 4823019931", "4823019931", "4823019931"),
        ("pl", "PESEL 88072314568", "88072314568", "88072314568"),
        ("pl", "numer dowodu osobistego ABC 523814", "ABC 523814", "ABC523814"),
    ],
)
def test_national_numbers_and_documents(language: str, text: str, value: str, normalized: str) -> None:
    assert found(text, language) == [(value, normalized)]


@pytest.mark.parametrize(
    "text",
    ["JG103742B", "VRDLGU72M04F205T", "Y5038127Z", "61829374S", "BKRPS4471Q", "6283741F", "57318492619",
     "88072314568", "739204180002"],
)
def test_checked_numbers_need_no_cue(text: str) -> None:
    assert [value for value, _ in found(f"here: {text}")] == [text]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "VRDLGU72M04F205X"),  # the codice fiscale's check letter is wrong
        ("es", "Y5038127A"),  # so is the NIE's
        ("de", "57318492610"),  # and the Steuer-ID's check digit
        ("en", "call us on 0800 123 4567"),
        ("en", "flight number LH 1234, seat 14C"),
        ("de", "Ihr Flug LX 318, Reihe 12, Zählerstand 0045127"),
        ("fr", "vol AF 1234, relevé du compteur 0451233"),
        ("es", "la lectura es 0045127"),
        ("it", "la lettura del contatore è 04512"),
        ("nl", "meterstand 045123, versie 12.4.1"),
        ("pl", "odczyt 04512, kod rabatowy LATO2024"),
        ("en", "promo code ABC12345"),
    ],
)
def test_what_is_no_id(language: str, text: str) -> None:
    assert found(text, language) == []


def test_any_code_when_the_bot_asked_for_a_document() -> None:
    asked = frozenset({"ID_DOCUMENT"})
    assert found("x4471920", expected=asked) == [("x4471920", "X4471920")]
    assert found("expires 2031", expected=asked) == []


def test_the_checks() -> None:
    assert lettered("JG103742B") and not lettered("BG103742B")  # BG is no NINO prefix
    assert checked("4010230002") and not checked("4010230003")
