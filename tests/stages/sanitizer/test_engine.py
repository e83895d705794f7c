from __future__ import annotations

import copy
import json
import logging
import re
from typing import Any

import pytest

from shared.errors import ConfigError, ValidationFailed
from shared.messages import PiiRule, RedactionCount
from stages.sanitizer.actions import decrypt_token
from stages.sanitizer.engine import PiiEngine

from .conftest import KEY, OTHER_KEY
from .conversation import dialogue, turn

RAW = ["Jane", "jane", "Doe", "jane.doe@example.com", "202-555-0143", "4111 1111 1111 1111", "42 Elm Street",
       "contact-7f3a"]


def pii_dialogue() -> list[dict[str, Any]]:
    records = dialogue(
        ("bot", "Hello! What's your name?"),
        ("user", "jane doe"),
        ("bot", "Thanks jane doe! What's your email?"),
        ("user", "it's jane.doe@example.com, or call 202-555-0143"),
        ("bot", "Noted, I sent a link to jane.doe@example.com."),
        ("user", "my card 4111 1111 1111 1111 and I live at 42 Elm Street"),
        ("user", "*****"),
    )
    records[5]["inputData"] = {"firstName": "Jane", "note": "card 4111-1111-1111-1111"}
    records[5]["previousInputText"] = "it's jane.doe@example.com"
    records[6]["ratingComment"] = "Jane says thanks"
    records[6]["inputData"] = json.dumps({"email": "JANE.DOE@example.com"})
    return records


def texts_of(records: list[dict[str, Any]]) -> str:
    return json.dumps(records)


def test_default_rules_leave_no_raw_value(engine: PiiEngine) -> None:
    records = pii_dialogue()
    original = copy.deepcopy(records)
    sanitized, _ = engine.sanitize_records(records, [])
    assert records == original  # input untouched
    assert [r["id"] for r in sanitized] == [r["id"] for r in records]
    dumped = texts_of(sanitized)
    for raw in RAW:
        assert raw not in dumped
    assert sanitized[6]["inputText"] == "*****"


def test_counts_each_replacement_by_type_and_action(engine: PiiEngine) -> None:
    _, counts = engine.sanitize_records(pii_dialogue(), [])
    assert counts == [
        RedactionCount(entity_type="CONTACT_ID", action="tokenize", count=7),
        RedactionCount(entity_type="CREDIT_CARD", action="tokenize", count=2),
        RedactionCount(entity_type="EMAIL_ADDRESS", action="tokenize", count=4),
        RedactionCount(entity_type="PERSON", action="tokenize", count=4),
        RedactionCount(entity_type="PHONE_NUMBER", action="tokenize", count=1),
        RedactionCount(entity_type="STREET_ADDRESS", action="tokenize", count=1),
    ]


def test_same_value_same_token_across_fields_records_and_calls(engine: PiiEngine) -> None:
    first, _ = engine.sanitize_records(pii_dialogue(), [])
    again, _ = engine.sanitize_records(pii_dialogue(), [])
    assert first == again
    email_token = first[4]["inputText"].removeprefix("Noted, I sent a link to ").rstrip(".")
    assert re.fullmatch(r"\[EMAIL_ADDRESS_k1_[0-9a-f]{16}\]", email_token)
    assert email_token in first[3]["inputText"]
    assert json.loads(first[6]["inputData"]) == {"email": email_token}  # normalized: case does not matter
    name_token = first[1]["inputText"]
    assert first[2]["inputText"] == f"Thanks {name_token}! What's your email?"
    assert len({r["contactId"] for r in first}) == 1


def test_tokens_depend_on_the_key(engine: PiiEngine) -> None:
    other = PiiEngine(OTHER_KEY, "k1", model="none")
    ours, _ = engine.sanitize_records(pii_dialogue(), [])
    theirs, _ = other.sanitize_records(pii_dialogue(), [])
    assert ours[1]["inputText"] != theirs[1]["inputText"]
    assert ours[0]["contactId"] != theirs[0]["contactId"]


def test_a_lower_case_name_is_a_name_only_as_an_answer(engine: PiiEngine) -> None:
    asked, _ = engine.sanitize_records(dialogue(("bot", "What's your name?"), ("user", "jane doe")), [])
    unasked, _ = engine.sanitize_records(dialogue(("bot", "How can I help?"), ("user", "jane doe")), [])
    assert asked[1]["inputText"].startswith("[PERSON_k1_")
    assert unasked[1]["inputText"] == "jane doe"


def test_a_name_found_once_is_found_where_the_session_repeats_it(engine: PiiEngine) -> None:
    records = dialogue(("bot", "What's your name?"), ("user", "jane doe"), ("bot", "ok jane, one moment"))
    records.append(turn(9, "bot", "ok jane", session="another session"))
    sanitized, _ = engine.sanitize_records(records, [])
    assert "jane" not in sanitized[2]["inputText"]
    assert sanitized[3]["inputText"] == "ok jane"


def test_names_without_context(ner_engine: PiiEngine, engine: PiiEngine) -> None:
    records = dialogue(("bot", "Thanks Jane Smith, your ticket is open."), ("user", "I met Peter Parker"))
    rules = [PiiRule(entity_type="PERSON", action="redact")]
    expected = ["Thanks [PERSON], your ticket is open.", "I met [PERSON]"]
    with_ner, _ = ner_engine.sanitize_records(records, rules)
    assert [r["inputText"] for r in with_ner] == expected
    # Without a model, the given-name gazetteer finds a known first name before a capitalised surname.
    without, _ = engine.sanitize_records(records, rules)
    assert [r["inputText"] for r in without] == expected


def test_only_types_with_a_rule_are_replaced(engine: PiiEngine) -> None:
    rules = [PiiRule(entity_type="EMAIL_ADDRESS", action="redact")]
    sanitized, counts = engine.sanitize_records(pii_dialogue(), rules)
    assert sanitized[3]["inputText"] == "it's [EMAIL_ADDRESS], or call 202-555-0143"
    assert sanitized[1]["inputText"] == "jane doe"
    assert {c.entity_type for c in counts} == {"EMAIL_ADDRESS", "CONTACT_ID"}


def test_all_with_an_override(engine: PiiEngine) -> None:
    rules = [
        PiiRule(entity_type="ALL", action="mask"),
        PiiRule(entity_type="EMAIL_ADDRESS", action="encrypt"),
    ]
    sanitized, counts = engine.sanitize_records(pii_dialogue(), rules)
    assert sanitized[1]["inputText"] == "********"
    token = sanitized[4]["inputText"].removeprefix("Noted, I sent a link to ").rstrip(".")
    assert decrypt_token(KEY, token) == "jane.doe@example.com"
    assert ("EMAIL_ADDRESS", "encrypt") in {(c.entity_type, c.action) for c in counts}
    for raw in RAW[:-1]:
        assert raw not in texts_of(sanitized)


def test_min_length_and_custom_patterns(engine: PiiEngine) -> None:
    records = dialogue(("user", "order ORD-12345 for Jo, ask Maximilian"))
    rules = [
        PiiRule(entity_type="ORDER_ID", pattern=r"ORD-\d+", action="redact"),
        PiiRule(entity_type="PERSON", action="redact", min_length=3),
        PiiRule(entity_type="PERSON", pattern=r"\b(?:Jo|Maximilian)\b"),  # the first PERSON rule counts
    ]
    sanitized, counts = engine.sanitize_records(records, rules)
    assert sanitized[0]["inputText"] == "order [ORDER_ID] for Jo, ask [PERSON]"
    assert [(c.entity_type, c.count) for c in counts] == [("CONTACT_ID", 1), ("ORDER_ID", 1), ("PERSON", 1)]


def test_bad_rules_raise_validation_failed(engine: PiiEngine) -> None:
    with pytest.raises(ValidationFailed):
        engine.sanitize_records(pii_dialogue(), [PiiRule(entity_type="SSN")])


def test_already_redacted_text_is_left_alone_and_replays_are_stable(engine: PiiEngine) -> None:
    records = dialogue(("bot", "What's your name?"), ("user", "*****"), ("user", "card **** **** **** 1111"))
    for record in records:
        record["contactId"] = "*****"
    sanitized, counts = engine.sanitize_records(records, [])
    assert sanitized == records
    assert counts == []
    once, _ = engine.sanitize_records(pii_dialogue(), [])
    twice, counts = engine.sanitize_records(once, [])
    assert twice == once
    assert counts == []


def test_records_without_text_pass_through(engine: PiiEngine) -> None:
    record = turn(0, "user", None, inputData=None, contactId=None)
    sanitized, counts = engine.sanitize_records([record], [])
    assert sanitized == [record]
    assert sanitized[0] is not record
    assert counts == []
    assert engine.sanitize_records([], []) == ([], [])


def test_without_a_model_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        engine = PiiEngine(KEY, "k1", model="none")
    assert not engine.uses_ner
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "context rules only" in caplog.records[0].getMessage()


def test_a_named_model_must_load() -> None:
    with pytest.raises(ConfigError, match="no_such_model"):
        PiiEngine(KEY, "k1", model="no_such_model")
