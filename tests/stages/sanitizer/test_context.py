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
