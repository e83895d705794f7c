"""Properties of tokens and ciphertexts over arbitrary values (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stages.sanitizer.actions import Pseudonymizer, decrypt_token, detokenize_text

KEYS = st.binary(min_size=16, max_size=64)
VALUES = st.text(min_size=1, max_size=80)
TYPES = st.sampled_from(["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "CREDIT_CARD", "ORDER_ID"])
KEY_IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
EXAMPLES = settings(max_examples=150, deadline=None)


@EXAMPLES
@given(key=KEYS, key_id=KEY_IDS, entity_type=TYPES, value=VALUES)
def test_tokens_are_deterministic_per_key(key: bytes, key_id: str, entity_type: str, value: str) -> None:
    assert Pseudonymizer(key, key_id).token(entity_type, value) == Pseudonymizer(key, key_id).token(entity_type, value)


@EXAMPLES
@given(key=KEYS, other=KEYS, entity_type=TYPES, value=VALUES)
def test_tokens_differ_across_keys(key: bytes, other: bytes, entity_type: str, value: str) -> None:
    if key != other:
        theirs = Pseudonymizer(other, "k1").token(entity_type, value)
        assert Pseudonymizer(key, "k1").token(entity_type, value) != theirs


@EXAMPLES
@given(key=KEYS, entity_type=TYPES, value=VALUES, other_value=VALUES)
def test_tokens_differ_across_values(key: bytes, entity_type: str, value: str, other_value: str) -> None:
    if value != other_value:
        pseudonymizer = Pseudonymizer(key, "k1")
        assert pseudonymizer.token(entity_type, value) != pseudonymizer.token(entity_type, other_value)


@EXAMPLES
@given(key=KEYS, key_id=KEY_IDS, entity_type=TYPES, value=VALUES, before=st.text(max_size=20),
       after=st.text(max_size=20))
def test_encryption_round_trips_through_detokenize(key: bytes, key_id: str, entity_type: str, value: str,
                                                   before: str, after: str) -> None:
    pseudonymizer = Pseudonymizer(key, key_id)
    token = pseudonymizer.encrypt(entity_type, value)
    assert token == pseudonymizer.encrypt(entity_type, value)  # deterministic (AES-SIV)
    assert decrypt_token(key, token) == value
    text = f"{before}{token}{after}"
    assert detokenize_text(key, key_id, text) == f"{before}{value}{after}"
