from __future__ import annotations

from typing import Any

import pytest

from stages.sanitizer.context import Expectation, asked_types, expectations, key_types

from .conversation import turn


def expected_types(records: list[dict[str, Any]]) -> list[frozenset[str]]:
    return [e.types for e in expectations(records)]


@pytest.mark.parametrize(
    ("bot_text", "types"),
    [
        ("What's your name?", {"PERSON"}),
        ("May I have your full name, please", {"PERSON"}),
        ("Who am I speaking with?", {"PERSON"}),
        ("What is your email address?", {"EMAIL_ADDRESS"}),
        ("Please enter your e-mail.", {"EMAIL_ADDRESS"}),
        ("Which phone number can we reach you on?", {"PHONE_NUMBER"}),
        ("What's your shipping address?", {"STREET_ADDRESS"}),
        ("Please type the card number.", {"CREDIT_CARD"}),
        ("Can I get your name and email?", {"PERSON", "EMAIL_ADDRESS"}),
        ("Your email address was updated.", set()),  # no question, no request
        ("How can I help you today?", set()),
        ("What's your IP address?", set()),
        ("What's your date of birth?", {"DATE_OF_BIRTH"}),
        ("And your ZIP code?", {"POSTAL_CODE"}),
        ("Please give me your IBAN.", {"IBAN_CODE"}),
        ("What are the last digits of your social security number?", {"US_SSN"}),
    ],
)
def test_asked_types(bot_text: str, types: set[str]) -> None:
    assert asked_types(bot_text) == types


@pytest.mark.parametrize(
    ("key", "types"),
    [("firstName", {"PERSON"}), ("email_address", {"EMAIL_ADDRESS"}), ("Phone", {"PHONE_NUMBER"}),
     ("shipping-address", {"STREET_ADDRESS"}), ("flowName", set()), ("text", set())],
)
def test_key_types(key: str, types: set[str]) -> None:
    assert key_types(key) == types


def test_the_question_reaches_the_user_turns_up_to_the_next_bot_or_agent_turn() -> None:
    records = [
        turn(0, "bot", "What's your name?"),
        turn(1, "bot", "(you can skip this)"),
        turn(2, "user", "jane doe"),
        turn(3, "user", "and I need help"),
        turn(4, "bot", "Thanks!"),
        turn(5, "user", "ok"),
        turn(6, "bot", "What's your email?"),
        turn(7, "agent", "Hi, I'm taking over"),
        turn(8, "user", "ok"),
    ]
    assert expected_types(records) == [set(), set(), {"PERSON"}, {"PERSON"}, set(), set(), set(), set(), set()]


def test_a_bot_turn_that_asks_to_go_on_keeps_the_question_open() -> None:
    records = [
        turn(0, "bot", "What's the best phone number to reach you?"),
        turn(1, "user", "415 555"),
        turn(2, "bot", "Got it, and the rest?"),
        turn(3, "user", "0143"),
        turn(4, "bot", "Which card would you like to use?"),
        turn(5, "user", "4111 1111"),
        turn(6, "bot", "Sorry, please try again"),
        turn(7, "user", "4111 1111 1111 1111"),
    ]
    phone, card = frozenset({"PHONE_NUMBER"}), frozenset({"CREDIT_CARD"})
    assert expectations(records) == [
        Expectation(), Expectation(phone, 0), Expectation(), Expectation(phone, 0),
        Expectation(), Expectation(card, 4), Expectation(), Expectation(card, 4),
    ]


def test_records_are_read_per_session_in_timestamp_order() -> None:
    question = turn(0, "bot", "What's your name?", session="a", timestamp="2024-06-04T10:00:00Z")
    answer = turn(1, "user", "jane", session="a", timestamp="2024-06-04T10:00:05.5+00:00")
    other = turn(2, "user", "bob", session="b", timestamp="2024-06-04T10:00:01Z")
    assert expected_types([answer, other, question]) == [{"PERSON"}, set(), set()]


@pytest.mark.parametrize(
    ("bot_text", "expected"),
    [
        ("Could you spell your surname for me?", "PERSON"),
        ("Wie ist Ihr Nachname?", "PERSON"),
        ("Nennen Sie mir bitte Ihren vollständigen Namen.", "PERSON"),
        ("Pouvez-vous me donner votre nom de famille ?", "PERSON"),
        ("¿Me dice su nombre y apellidos, por favor?", "PERSON"),
        ("Mi può dire nome e cognome?", "PERSON"),
        ("Wat is uw achternaam?", "PERSON"),
        ("Jak brzmi Pana imię i nazwisko?", "PERSON"),
        ("Wie lautet Ihre Handynummer?", "PHONE_NUMBER"),
        ("Quel est votre numéro de portable ?", "PHONE_NUMBER"),
        ("¿A qué teléfono le llamamos?", "PHONE_NUMBER"),
        ("Qual è il suo numero di cellulare?", "PHONE_NUMBER"),
        ("Op welk telefoonnummer bent u bereikbaar?", "PHONE_NUMBER"),
        ("Jaki jest Pana numer telefonu?", "PHONE_NUMBER"),
        ("Bitte nennen Sie Ihr Geburtsdatum.", "DATE_OF_BIRTH"),
        ("Quelle est votre date de naissance ?", "DATE_OF_BIRTH"),
        ("¿Cuál es su fecha de nacimiento?", "DATE_OF_BIRTH"),
        ("Mi dice la sua data di nascita?", "DATE_OF_BIRTH"),
        ("Wat is uw geboortedatum?", "DATE_OF_BIRTH"),
        ("Proszę podać datę urodzenia.", "DATE_OF_BIRTH"),
        ("Wie lautet Ihre Anschrift?", "STREET_ADDRESS"),
        ("Quelle est votre adresse postale ?", "STREET_ADDRESS"),
        ("¿Cuál es su dirección?", "STREET_ADDRESS"),
        ("Qual è il suo indirizzo?", "STREET_ADDRESS"),
        ("Wat is uw adres?", "STREET_ADDRESS"),
        ("Proszę podać adres i ulicę.", "STREET_ADDRESS"),
        ("Und Ihre Postleitzahl?", "POSTAL_CODE"),
        ("What's your customer number?", "ACCOUNT_NUMBER"),
        ("Could I have the booking reference?", "ACCOUNT_NUMBER"),
        ("Nennen Sie mir bitte Ihre Vertragsnummer.", "ACCOUNT_NUMBER"),
        ("Quel est votre numéro de dossier ?", "ACCOUNT_NUMBER"),
        ("¿Me da el número de pedido?", "ACCOUNT_NUMBER"),
        ("Qual è il numero di polizza?", "ACCOUNT_NUMBER"),
        ("Wat is uw klantnummer?", "ACCOUNT_NUMBER"),
        ("Proszę podać numer zamówienia.", "ACCOUNT_NUMBER"),
        ("Can you read me your passport number?", "ID_DOCUMENT"),
        ("Wie lautet Ihre Steuer-ID?", "ID_DOCUMENT"),
        ("Pouvez-vous indiquer le numéro de votre passeport ?", "ID_DOCUMENT"),
        ("¿Me facilita su DNI, por favor?", "ID_DOCUMENT"),
        ("Mi può dare il codice fiscale?", "ID_DOCUMENT"),
        ("Wat is uw BSN?", "ID_DOCUMENT"),
        ("Proszę podać numer PESEL.", "ID_DOCUMENT"),
        ("What's the registration of the car?", "VEHICLE_PLATE"),
        ("Wie lautet das Kennzeichen?", "VEHICLE_PLATE"),
        ("Quelle est la plaque d'immatriculation ?", "VEHICLE_PLATE"),
        ("¿Cuál es la matrícula del coche?", "VEHICLE_PLATE"),
        ("Qual è la targa del veicolo?", "VEHICLE_PLATE"),
        ("Wat is het kenteken?", "VEHICLE_PLATE"),
        ("Proszę podać numer rejestracyjny.", "VEHICLE_PLATE"),
    ],
)
def test_questions_in_every_language(bot_text: str, expected: str) -> None:
    assert expected in asked_types(bot_text)


@pytest.mark.parametrize(
    "bot_text",
    [
        "Ihre Adresse wurde gespeichert.",
        "Votre commande est partie hier.",
        "Su pedido ha sido enviado.",
        "Il pacco è stato consegnato.",
        "Uw pakket is onderweg.",
        "Paczka została dostarczona.",
        "Wie kann ich Ihnen helfen?",
        "Comment puis-je vous aider ?",
    ],
)
def test_statements_and_open_questions_ask_for_nothing(bot_text: str) -> None:
    assert asked_types(bot_text) == set()


def test_a_handover_agent_asks_too() -> None:
    records = [
        turn(0, "bot", "I'll connect you with a colleague."),
        turn(1, "agent", "Hi, this is Mel. Can I get your full name?"),
        turn(2, "user", "tavita faleolo"),
    ]
    assert expected_types(records)[2] == {"PERSON"}


@pytest.mark.parametrize(
    "bot_text",
    [
        "Could you read me the MPRN on your bill?",
        "Can I have your rental contract number?",
        "Liegt Ihnen die Versicherungsscheinnummer vor?",
        "Wollen Sie Ihre Kundenkarten-Nummer angeben?",
        "Please enter the Penalty Charge Notice reference.",
        "Pourriez-vous m'indiquer votre numéro client ?",
        "¿Tiene a mano el localizador?",
        "Mi dice il codice pratica?",
        "Heb je de track & trace code bij de hand?",
        "Proszę podać numer referencyjny.",
    ],
)
def test_any_number_the_customer_holds_is_asked_as_an_account_number(bot_text: str) -> None:
    assert "ACCOUNT_NUMBER" in asked_types(bot_text)


@pytest.mark.parametrize(
    "bot_text",
    [
        "What's your flight number?",
        "Which seat number would you like?",
        "Please give me the meter reading.",
        "Wie lautet die Flugnummer?",
        "Bitte nennen Sie den Zählerstand.",
        "Quel est le numéro de vol ?",
        "¿Cuál es el número de vuelo?",
        "Qual è il numero di volo?",
        "Wat is het vluchtnummer?",
        "Jaki jest numer lotu?",
        "What's your phone number?",
        "And your ZIP code?",
    ],
)
def test_numbers_that_are_nobodys_or_another_type_are_no_account_number(bot_text: str) -> None:
    assert "ACCOUNT_NUMBER" not in asked_types(bot_text)


@pytest.mark.parametrize(
    ("bot_text", "expected"),
    [
        ("Von den Mitreisenden benötige ich noch die Geburtsdaten.", "DATE_OF_BIRTH"),
        ("And which town do you live in?", "LOCATION"),
        ("In welchem Ort wohnen Sie?", "LOCATION"),
        ("Dans quelle ville habitez-vous ?", "LOCATION"),
        ("¿En qué ciudad vive?", "LOCATION"),
        ("In quale città abita?", "LOCATION"),
        ("Wat is uw woonplaats?", "LOCATION"),
        ("W jakiej miejscowości Pan mieszka?", "LOCATION"),
    ],
)
def test_birth_dates_and_towns_are_asked_for(bot_text: str, expected: str) -> None:
    assert expected in asked_types(bot_text)


@pytest.mark.parametrize(
    "bot_text",
    ["Am I chatting with Alex?", "Spreche ich mit Frau Berger?", "Est-ce que je parle à Madame Roux ?",
     "¿Hablo con el señor Ruiz?", "Parlo con la signora Bianchi?", "Spreek ik met meneer De Vries?",
     "Czy rozmawiam z panem Nowakiem?"],
)
def test_a_question_whether_the_bot_speaks_with_someone_asks_for_a_name(bot_text: str) -> None:
    assert "PERSON" in asked_types(bot_text)
