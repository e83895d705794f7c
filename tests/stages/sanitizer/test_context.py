from __future__ import annotations

import pytest

from stages.sanitizer.context import asked_types, expected_types, key_types

from .conversation import turn


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


def test_the_question_reaches_the_next_user_turn_only() -> None:
    records = [
        turn(0, "bot", "What's your name?"),
        turn(1, "bot", "(you can skip this)"),
        turn(2, "user", "jane doe"),
        turn(3, "user", "and I need help"),
        turn(4, "bot", "What's your email?"),
        turn(5, "agent", "Hi, I'm taking over"),
        turn(6, "user", "ok"),
    ]
    assert expected_types(records) == [set(), set(), {"PERSON"}, set(), set(), set(), set()]


def test_records_are_read_per_session_in_timestamp_order() -> None:
    question = turn(0, "bot", "What's your name?", session="a", timestamp="2024-06-04T10:00:00Z")
    answer = turn(1, "user", "jane", session="a", timestamp="2024-06-04T10:00:05.5+00:00")
    other = turn(2, "user", "bob", session="b", timestamp="2024-06-04T10:00:01Z")
    assert expected_types([answer, other, question]) == [{"PERSON"}, set(), set()]
