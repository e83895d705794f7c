from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.credit_card import CreditCardRecognizer, luhn_valid

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"CREDIT_CARD"}))


@pytest.mark.parametrize(
    ("text", "found", "digits"),
    [
        ("card 4111 1111 1111 1111 exp 12/27", "4111 1111 1111 1111", "4111111111111111"),
        ("5500-0000-0000-0004", "5500-0000-0000-0004", "5500000000000004"),
        ("amex 378282246310005.", "378282246310005", "378282246310005"),
        ("diners 3056 9309 0259 04", "3056 9309 0259 04", "30569309025904"),
        ("visa13 4222222222222", "4222222222222", "4222222222222"),
        ("19 digits 6011 0009 9013 9424 009", "6011 0009 9013 9424 009", "6011000990139424009"),
        ("4111 1111 1111 1111 2027", "4111 1111 1111 1111", "4111111111111111"),
    ],
)
def test_finds_luhn_valid_numbers(text: str, found: str, digits: str) -> None:
    assert luhn_valid(digits)
    detections = CreditCardRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, digits)]


@pytest.mark.parametrize(
    "text",
    [
        "my card number is 4539 1488 0343 6467",
        "meine Kreditkarte: 4539 1488 0343 6467",
        "ma carte 4539-1488-0343-6467 expire bientôt",
        "mi tarjeta es 4539148803436467",
        "la carta 4539 1488 0343 6467 grazie",
        "mijn creditcard 4539 1488 0343 6467",
        "moja karta 4539 1488 0343 6467",
    ],
)
def test_finds_card_numbers_in_every_language(text: str) -> None:
    [detection] = CreditCardRecognizer().detect(text, NO_CONTEXT)
    assert detection.normalized == "4539148803436467"


def test_finds_two_cards_in_one_run_of_digits() -> None:
    detections = CreditCardRecognizer().detect("4111111111111111 5500 0000 0000 0004", NO_CONTEXT)
    assert [d.normalized for d in detections] == ["4111111111111111", "5500000000000004"]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "1234567890123",  # Luhn fails
        "0000 0000 0000 0000",  # passes Luhn, but a placeholder
        "411111111111",  # 12 digits
        "41111111111111111111",  # 20 digits
        "order 2024-06-04",
        "Rechnung 2024 0000 1234 5678",  # Luhn fails
        "IBAN DE89 3704 0044 0532 0130 00",
        "référence 1234 5678 9012 3456",  # Luhn fails
    ],
)
def test_ignores_other_numbers(text: str) -> None:
    assert CreditCardRecognizer().detect(text, NO_CONTEXT) == []


def test_takes_a_mistyped_number_when_a_card_was_asked_for() -> None:
    text = "4111 1111 1111 1112"
    [detection] = CreditCardRecognizer().detect(text, ASKED)
    assert detection.normalized == "4111111111111112"
    assert detection.score < CreditCardRecognizer().detect("4111 1111 1111 1111", ASKED)[0].score
