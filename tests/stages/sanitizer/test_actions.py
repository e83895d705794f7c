from __future__ import annotations

import re
import subprocess
import sys

import pytest

from shared.errors import ConfigError
from shared.messages import PiiAction, PiiRule
from stages.sanitizer.actions import Pseudonymizer, decrypt_token, mask, resolve_overlaps
from stages.sanitizer.recognizers.base import Detection

from .conftest import KEY, OTHER_KEY


def detection(start: int, end: int, entity_type: str = "PERSON", score: float = 0.8) -> Detection:
    return Detection(start, end, entity_type, score, "value")


def test_token_is_a_keyed_hash_of_the_normalized_value() -> None:
    token = Pseudonymizer(KEY, "k1").token("EMAIL_ADDRESS", "jane@example.com")
    assert re.fullmatch(r"\[EMAIL_ADDRESS_k1_[0-9a-f]{16}\]", token)
    assert token == Pseudonymizer(KEY, "k1").token("EMAIL_ADDRESS", "jane@example.com")
    assert token != Pseudonymizer(OTHER_KEY, "k1").token("EMAIL_ADDRESS", "jane@example.com")
    assert token != Pseudonymizer(KEY, "k1").token("EMAIL_ADDRESS", "jane@example.org")


def test_token_is_the_same_in_another_process() -> None:
    code = (
        "from stages.sanitizer.actions import Pseudonymizer;"
        f"print(Pseudonymizer({KEY!r}, 'k1').token('PHONE_NUMBER', '+12025550143'))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == Pseudonymizer(KEY, "k1").token("PHONE_NUMBER", "+12025550143")


def test_encryption_is_deterministic_and_round_trips_with_the_key() -> None:
    pseudonymizer = Pseudonymizer(KEY, "k2")
    token = pseudonymizer.encrypt("PERSON", "jane doe")
    assert re.fullmatch(r"\[PERSON_k2_enc:[A-Za-z0-9_-]+\]", token)
    assert token == pseudonymizer.encrypt("PERSON", "jane doe")
    assert "jane" not in token
    assert decrypt_token(KEY, token) == "jane doe"
    with pytest.raises(ValueError, match="key"):
        decrypt_token(OTHER_KEY, token)
    with pytest.raises(ValueError):
        decrypt_token(KEY, token.replace("PERSON", "EMAIL_ADDRESS"))  # the type is authenticated
    with pytest.raises(ValueError):
        decrypt_token(KEY, pseudonymizer.token("PERSON", "jane doe"))


@pytest.mark.parametrize(
    ("action", "replacement"),
    [("mask", "Hi ******** !"), ("redact", "Hi [PERSON] !"), ("tokenize", "Hi [PERSON_k1_"),
     ("encrypt", "Hi [PERSON_k1_enc:")],
)
def test_rewrite_per_action(action: PiiAction, replacement: str) -> None:
    text = "Hi Jane Doe !"
    rule = PiiRule(entity_type="PERSON", action=action)
    rewritten = Pseudonymizer(KEY, "k1").rewrite(text, [detection(3, 11)], {"PERSON": rule})
    assert rewritten.startswith(replacement)
    assert "Jane" not in rewritten


@pytest.mark.parametrize(
    ("text", "mask_char", "keep_last", "masked"),
    [
        ("4111 1111 1111 1111", "*", 4, "***************1111"),
        ("4111-1111-1111-1111", "#", 4, "###############1111"),
        ("+1 (202) 555-0143", "X", 4, "XXXXXXXXXXXXX0143"),
        ("Jane Doe", "*", 0, "********"),
        ("Al", "*", 4, "*l"),  # never more than half of a value shows
        ("jane@example.com", "*", 3, "*************com"),
    ],
)
def test_mask_with_a_visible_tail(text: str, mask_char: str, keep_last: int, masked: str) -> None:
    assert mask(text, mask_char, keep_last) == masked


@pytest.mark.parametrize(
    ("key", "key_id"), [(b"short", "k1"), (KEY, "k_1"), (KEY, "")],
)
def test_rejects_weak_keys_and_key_ids_that_would_break_tokens(key: bytes, key_id: str) -> None:
    with pytest.raises(ConfigError):
        Pseudonymizer(key, key_id)


def test_overlaps_longest_span_wins() -> None:
    card = detection(0, 19, "CREDIT_CARD", 0.9)
    phone = detection(0, 9, "PHONE_NUMBER", 1.0)
    assert resolve_overlaps([phone, card]) == [card]


def test_overlaps_then_highest_score_then_earliest_start() -> None:
    weak, strong = detection(0, 5, "PERSON", 0.5), detection(0, 5, "STREET_ADDRESS", 0.9)
    assert resolve_overlaps([weak, strong]) == [strong]
    first, second = detection(0, 5), detection(3, 8)
    assert resolve_overlaps([second, first]) == [first]
    apart = [detection(10, 12), detection(0, 5)]
    assert resolve_overlaps(apart) == sorted(apart, key=lambda d: d.start)


def test_what_a_losing_detection_held_outside_the_winner_stays_covered() -> None:
    text = "omar haddou fifth of may nineteen eighty"
    name = Detection(0, 17, "PERSON", 0.8, "omar haddou fifth")
    birth = Detection(12, 40, "DATE_OF_BIRTH", 0.9, "1980-05-05")
    assert resolve_overlaps([name, birth]) == [birth]  # without the text: the longest only
    assert resolve_overlaps([name, birth], text) == [Detection(0, 11, "PERSON", 0.8, "omar haddou fifth"), birth]
