from __future__ import annotations

import pytest

from shared.errors import ValidationFailed
from shared.messages import PiiRule
from stages.sanitizer.policy import build_policy
from stages.sanitizer.recognizers.registry import ENTITY_TYPES, OPT_IN_TYPES

DEFAULT_TYPES = [t for t in ENTITY_TYPES if t not in OPT_IN_TYPES]


def test_no_rules_tokenize_every_builtin_type_but_the_opt_in_ones() -> None:
    policy = build_policy([])
    assert policy.actions == dict.fromkeys(DEFAULT_TYPES, "tokenize")
    assert {r.entity_type for r in policy.recognizers} == set(DEFAULT_TYPES)
    assert policy.rule_index == dict.fromkeys(DEFAULT_TYPES)  # no rule of the export's governs them
    assert "ORGANIZATION" not in policy.actions


def test_a_named_rule_beats_all_and_the_first_of_several_counts() -> None:
    policy = build_policy([
        PiiRule(entity_type="EMAIL_ADDRESS", action="redact"),
        PiiRule(entity_type="ALL", action="mask", min_length=3),
        PiiRule(entity_type="EMAIL_ADDRESS", action="encrypt"),
    ])
    assert policy.actions == {**dict.fromkeys(DEFAULT_TYPES, "mask"), "EMAIL_ADDRESS": "redact"}
    assert policy.min_lengths == {t: 3 for t in DEFAULT_TYPES if t != "EMAIL_ADDRESS"}
    assert policy.rule_index == {**dict.fromkeys(DEFAULT_TYPES, 1), "EMAIL_ADDRESS": 0}


def test_opt_in_types_and_ner_labels() -> None:
    policy = build_policy([
        PiiRule(entity_type="ORGANIZATION", action="redact"),
        PiiRule(entity_type="LOCATION", ner_labels=("GPE",)),
        PiiRule(entity_type="EVENT_NAME", ner_labels=("EVENT",), action="mask"),
    ])
    assert policy.actions == {"ORGANIZATION": "redact", "LOCATION": "tokenize", "EVENT_NAME": "mask"}
    labels: dict[str, set[str]] = {}
    for recognizer in policy.recognizers:  # LOCATION has two: NER's places and the towns of addresses
        labels.setdefault(recognizer.entity_type, set()).update(recognizer.ner_labels)
    assert labels == {"ORGANIZATION": {"ORG"}, "LOCATION": {"GPE"}, "EVENT_NAME": {"EVENT"}}
    assert policy.ner_labels == {"ORG", "GPE", "EVENT"}
    assert build_policy([PiiRule(entity_type="EMAIL_ADDRESS")]).ner_labels == frozenset()


def test_types_no_rule_covers_are_not_looked_for() -> None:
    policy = build_policy([PiiRule(entity_type="PHONE_NUMBER", action="mask")])
    assert policy.actions == {"PHONE_NUMBER": "mask"}
    assert [r.entity_type for r in policy.recognizers] == ["PHONE_NUMBER"]


def test_a_pattern_defines_a_custom_type_or_extends_a_builtin_one() -> None:
    policy = build_policy([
        PiiRule(entity_type="ORDER_ID", pattern=r"ORD-\d+", action="redact"),
        PiiRule(entity_type="EMAIL_ADDRESS", pattern=r"\w+ at \w+ dot com"),
    ])
    assert policy.actions == {"ORDER_ID": "redact", "EMAIL_ADDRESS": "tokenize"}
    assert sorted(r.entity_type for r in policy.recognizers) == ["EMAIL_ADDRESS", "EMAIL_ADDRESS", "ORDER_ID"]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (PiiRule(entity_type="SSN"), "pii_rules[0].entity_type"),
        (PiiRule(entity_type="ALL", pattern=r"\d+"), "pii_rules[0].pattern"),
        (PiiRule(entity_type="order id", pattern=r"\d+"), "pii_rules[0].entity_type"),
        (PiiRule(entity_type="ORDER_ID", pattern=r"(unclosed"), "pii_rules[0].pattern"),
        (PiiRule(entity_type="ORDER_ID", pattern="x" * 501), "pii_rules[0].pattern"),
        (PiiRule(entity_type="PERSON", min_length=-1), "pii_rules[0].min_length"),
        (PiiRule(entity_type="PERSON", action="mask", mask_char="**"), "pii_rules[0].mask_char"),
        (PiiRule(entity_type="PERSON", action="mask", mask_char="7"), "pii_rules[0].mask_char"),
        (PiiRule(entity_type="PERSON", action="tokenize", keep_last=4), "pii_rules[0].keep_last"),
        (PiiRule(entity_type="PERSON", action="mask", keep_last=-1), "pii_rules[0].keep_last"),
        (PiiRule(entity_type="LOCATION", ner_labels=("TOWN",)), "pii_rules[0].ner_labels"),
        (PiiRule(entity_type="EMAIL_ADDRESS", ner_labels=("ORG",)), "pii_rules[0].ner_labels"),
        (PiiRule(entity_type="ALL", ner_labels=("ORG",)), "pii_rules[0].ner_labels"),
    ],
)
def test_bad_rules_are_named(rule: PiiRule, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        build_policy([rule])
    assert [p["field"] for p in raised.value.details["problems"]] == [field]
