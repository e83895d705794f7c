from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.account_number import AccountNumberRecognizer
from stages.sanitizer.recognizers.base import TextContext

from .recognizing import kept

RECOGNIZER = AccountNumberRecognizer()


def found(text: str, language: str = "en", expected: frozenset[str] = frozenset()) -> list[str]:
    return [value for value, _ in kept(RECOGNIZER, text, TextContext(expected=expected, language=language))]


@pytest.mark.parametrize(
    ("language", "text", "value"),
    [
        ("en", "My customer number is 40317759", "40317759"),
        ("en", "the policy no. is 7712 0934 1", "7712 0934 1"),
        ("en", "claim ref CLM-6803-2202 please", "CLM-6803-2202"),
        ("en", "booking reference qwx8pt", "qwx8pt"),  # typed in lower case: the cue is enough
        ("en", "frequent flyer number BA 48817723", "BA 48817723"),
        ("en", "Tracking: 1Z 999 AA1 01 2345 6784", "1Z 999 AA1 01 2345 6784"),
        ("en", "police report # 2024/118827", "2024/118827"),
        ("en", "sort code 30-94-57, account 61129834", "30-94-57"),
        ("en", "my ICCID is 8944 1100 2233 4455 667", "8944 1100 2233 4455 667"),
        ("de", "Meine Kundennummer lautet 7712 0934", "7712 0934"),
        ("de", "Ihre Vertragsnummer: VN-2023-558812", "VN-2023-558812"),
        ("de", "Aktenzeichen 4 C 2689/23", "4 C 2689/23"),
        ("de", "Die Zählernummer ist 1EMH0011557845", "1EMH0011557845"),
        ("de", "Vers.-Nr. VS-6803229", "VS-6803229"),
        ("de", "Ihre Nr. AB123", "AB123"),  # a bare "Nr." is enough for a short code
        ("en", "it's # KQ-7731", "KQ-7731"),
        ("de", "Nummer des Vertrags 44120093", "44120093"),
        ("de", "Abholung bis 12 Uhr, Ihr Rücksendeschein: RS-5512093", "RS-5512093"),  # "Uhr" is no cue of it
        ("fr", "mon numéro de dossier est 2024-DX-88172", "2024-DX-88172"),
        ("fr", "Numéro client : 0044519823", "0044519823"),
        ("fr", "réservation de vol XK4M2L", "XK4M2L"),  # "réservation" is what the code is
        ("es", "mi número de pedido es 1099-6803-22", "1099-6803-22"),
        ("es", "número de póliza 88 1234 5678", "88 1234 5678"),
        ("it", "il numero di polizza è 77/882193", "77/882193"),
        ("it", "codice cliente 5512098", "5512098"),
        ("nl", "mijn klantnummer is 30048817", "30048817"),
        ("nl", "het dossiernummer is ZK-44120", "ZK-44120"),
        ("pl", "numer zamówienia 4481-2290-77", "4481-2290-77"),
        ("pl", "polisa nr 990 112 3344", "990 112 3344"),
        ("en", "6803 5176 is my account number", "6803 5176"),  # the cue after the code
        ("de", "XK4M2L, das ist meine Buchungsnummer", "XK4M2L"),
    ],
)
def test_a_cue_word_makes_a_code_an_identifier(language: str, text: str, value: str) -> None:
    assert value in found(text, language)


@pytest.mark.parametrize(
    ("language", "text", "value"),
    [
        ("en", "hi, it's about RX-5512-0093 again", "RX-5512-0093"),
        ("en", "I got a letter with 2024/KL/77812 on it", "2024/KL/77812"),
        ("en", "the box says JD0146000033188420 on the side", "JD0146000033188420"),
        ("en", "yes 5591 2203 8817", "5591 2203 8817"),
        ("de", "es geht um KD 5512 0874", "KD 5512 0874"),
        ("fr", "concernant TRK/5590213/07", "TRK/5590213/07"),
        ("es", "sobre el HV7KQ2 de ayer", "HV7KQ2"),
        ("it", "riguardo a SIN-2023-6803902", "SIN-2023-6803902"),
        ("nl", "over 3SKBZ5529017744", "3SKBZ5529017744"),
        ("pl", "chodzi o 00340434112299887766", "00340434112299887766"),
    ],
)
def test_a_code_is_an_identifier_by_its_shape(language: str, text: str, value: str) -> None:
    assert found(text, language) == [value]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # flights, trains, seats, gates
        ("en", "Flight LH 1234 is delayed, gate B22, seat 14C"),
        ("en", "my flight number is EZY8841"),
        ("en", "The booking is Lisbon to Oslo on TP 742"),  # a flight number far from "booking"
        ("de", "Ihr Flug LX 318 startet um 7:40 ab Terminal 2"),
        ("de", "wir nehmen den ICE 1537 nach München, Wagen 7, Platz 64"),
        ("fr", "Le vol AF 1234 part à 10h30"),
        ("es", "Su vuelo IB 3166 sale desde la puerta K86"),
        ("es", "la reserva del vuelo IB3166"),  # the flight number right after "vuelo"
        ("it", "Il treno Frecciarossa 9521 parte dal binario 12"),
        ("nl", "Uw vlucht KL 1001 vertrekt om 08:15"),
        ("pl", "Lot LO 3925 odlatuje o 14:05"),
        # meter readings
        ("en", "the meter reading is 0048213"),
        ("de", "Zählerstand 0045127 vom Montag"),
        ("de", "Stand gestern HT 31 077 / NT 9 264"),
        ("fr", "relevé du compteur 0451233"),
        ("es", "la lectura del contador es 88213"),
        ("es", "La lectura de su contador es 0451299 m3"),
        ("it", "la lettura del contatore è 0451229"),
        ("nl", "de meterstand is 045123"),
        ("pl", "odczyt licznika wynosi 0451244"),
        ("de", "Kontostand 12345678"),
        ("en", "the meter shows 31 507.2 kWh"),
        ("en", "from IP 203.57.148.91 yesterday"),
        # amounts, dates, versions, errors, promo codes, products
        ("en", "the total is 1 245 000 €"),
        ("de", "Der Betrag von 12345678 wurde gebucht"),
        ("fr", "le total est de 1 249,90 €"),
        ("en", "on 12.03.2024 at 14:30, born 23.08.1979"),
        ("en", "from 2019-2024 we lived there"),
        ("en", "version 10.4.2 of the app shows error E-7310-X"),
        ("en", "I get 0x80070005 when updating"),
        ("en", "use promo code SUMMER2024 at checkout"),
        ("de", "Gutscheincode WINTER-25-AB"),
        ("fr", "Votre code promo NOEL2024 est valable"),
        ("es", "El código de descuento VERANO25"),
        ("it", "Il codice sconto ESTATE-30"),
        ("nl", "De kortingscode ZOMER2024"),
        ("pl", "Kod rabatowy LATO2024"),
        ("en", "Model BX-3170 broke, see ISBN 978-3-16-148410-0"),
        ("en", "COVID-19 test, ZKLUNCH15"),
        # company places, numbers and ids
        ("en", "call us on 0800 123 4567"),
        ("de", "Die Hotline erreichen Sie unter 0800 123 45 67"),
        ("es", "llame al 912 345 678"),
        ("en", "customer service 0800 123 4567"),
        ("fr", "Appelez notre service client au 09 69 32 15 15"),  # the company's customer service
        ("it", "servizio clienti 02 1234 5678"),
        ("en", "Your closest pickup point is Parcel Locker 20571"),
        ("de", "Strahlnetz GmbH, HRB 12345, USt-IdNr. DE123456789"),
        ("en", "there is a known outage, INC-55812"),
        ("en", "our BIC is DEUTDEFFXXX and the router is 192.168.178.1"),
        ("en", "see https://example.com/help/article/360012345678"),
        # postcodes are the postal code recognizer's
        ("en", "London SW1A 2AA"),
        ("nl", "1071 XZ Amsterdam"),
    ],
)
def test_what_is_no_identifier(language: str, text: str) -> None:
    assert found(text, language) == []


ASKED = frozenset({"ACCOUNT_NUMBER"})


@pytest.mark.parametrize(
    ("text", "value"),
    [("88-21-47", "88-21-47"), ("yes it's 6803 229", "6803 229"), ("sure, ab-6038", "ab-6038"),
     ("LH 6803", "LH 6803"), ("537291", "537291")],
)
def test_an_answer_to_the_question_for_it(text: str, value: str) -> None:
    assert found(text) == []  # too little to go on alone
    assert found(text, expected=ASKED) == [value]


@pytest.mark.parametrize("text", ["2019", "on 12/03/2024", "the reading is 04512", "thanks, 20 €"])
def test_an_answer_that_is_no_identifier(text: str) -> None:
    assert found(text, expected=ASKED) == []


def test_a_code_after_a_list_connector_takes_the_cue_of_the_one_before() -> None:
    assert found("policy 1234567 and 7654321") == ["1234567", "7654321"]


def test_upi_ids_but_not_email_addresses() -> None:
    assert kept(RECOGNIZER, "please pay to suresh.m@ybl", TextContext()) == [("suresh.m@ybl", "suresh.m@ybl")]
    assert found("mail suresh.m@example.com") == []


def test_normalized_to_letters_and_digits_in_upper_case() -> None:
    assert kept(RECOGNIZER, "order kq-538/20614", TextContext()) == [("kq-538/20614", "KQ53820614")]
