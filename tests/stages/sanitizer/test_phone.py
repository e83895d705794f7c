from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.phone import PhoneRecognizer
from tests.stages.sanitizer.recognizing import kept

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
        ("in Nuuk: +299 32 45 17", "+299 32 45 17", "+299324517"),  # six national digits
        ("Monaco +377 93 25 18 00", "+377 93 25 18 00", "+37793251800"),
    ],
)
def test_finds_numbers_in_several_formats_and_regions(text: str, found: str, e164: str) -> None:
    detections = PhoneRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, e164)]


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "I heard 98451 20376", "98451 20376"),  # India
        ("en", "its 0412 567 893", "0412 567 893"),  # Australia
        ("de", "am besten 0676 1234567", "0676 1234567"),  # Austria
        ("de", "Festnetz 044 668 18 00", "044 668 18 00"),  # Switzerland
        ("fr", "mon portable 0476 12 34 56", "0476 12 34 56"),  # Belgium
        ("es", "mi móvil es 612 34 56 78", "612 34 56 78"),
        ("it", "il cellulare è 347 123 4567", "347 123 4567"),
        ("nl", "bel me op 06 12345678", "06 12345678"),
        ("pl", "na numer 512 345 678", "512 345 678"),
    ],
)
def test_reads_numbers_without_country_code_in_the_languages_countries(language: str, text: str, found: str) -> None:
    detections = PhoneRecognizer().detect(text, TextContext(language=language))
    assert [text[d.start : d.end] for d in detections] == [found]


def test_prefers_the_languages_countries() -> None:
    [german] = PhoneRecognizer().detect("030 1234567", TextContext(language="de"))
    [polish] = PhoneRecognizer().detect("512 345 678", TextContext(language="pl"))
    assert (german.normalized, polish.normalized) == ("+49301234567", "+48512345678")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "order 30123456 shipped"),
        ("en", "it happened on 2024-06-04T10:15:02"),
        ("en", "ticket 12345"),
        ("en", "(555) 123-4567"),  # 555-1xxx is no real number, and nothing says "phone"
        ("en", "version 1.2.3.4.5.6.7"),
        ("en", "tell me about 2024 06 04"),
        ("de", "Zählerstand 045821"),
        ("de", "Kundennummer 123456"),
        ("fr", "code 31 66 86"),  # six digits without a country code
        ("es", "pedido 2024 0012"),
        ("it", "sinistro 2024 0773"),
        ("nl", "postcode 1234 AB"),
        ("pl", "kwota 1 250,00 zł"),
    ],
)
def test_ignores_numbers_that_are_no_phone_numbers(language: str, text: str) -> None:
    assert PhoneRecognizer().detect(text, TextContext(language=language)) == []


@pytest.mark.parametrize(
    ("text", "context"),
    [("(555) 123-4567", ASKED), ("call me on (555) 123-4567", NO_CONTEXT),
     ("rufen Sie mich an: (555) 123-4567", NO_CONTEXT), ("llámame al (555) 123-4567", NO_CONTEXT)],
)
def test_accepts_merely_possible_numbers_when_something_says_phone(text: str, context: TextContext) -> None:
    [detection] = PhoneRecognizer().detect(text, context)
    assert text[detection.start : detection.end] == "(555) 123-4567"
    # Not a real US number, but a possible one in the first region tried.
    assert detection.normalized == "+15551234567"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "or ring our fraud team on 1-877-512-6604"),
        ("de", "unsere Hotline 0800 123 4567"),
        ("fr", "appelez le 0 800 12 34 56"),
        ("es", "llame al 900 327 618"),
        ("it", "chiami il numero verde 800 123 456"),
        ("nl", "bel gratis 0800 1234"),
        ("pl", "infolinia 800 123 456"),
    ],
)
def test_toll_free_and_premium_numbers_are_a_companys(language: str, text: str) -> None:
    assert kept(PhoneRecognizer(), text, TextContext(language=language)) == []


def test_regions_are_configurable() -> None:
    unknown_language = TextContext(language="xx")
    assert PhoneRecognizer(regions=["US"]).detect("020 7946 0958", unknown_language) == []
    assert PhoneRecognizer(regions=["GB"]).detect("020 7946 0958", unknown_language) != []
