"""The synthetic dataset: deterministic, Cognigy-shaped, with exact ground truth for the planted PII."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import phonenumbers
import pytest

from simulator.config import SimulatorConfig, dataset_window
from simulator.dataset import COGNIGY_MASK, Dataset, PlantedPii, generate_dataset, write_ground_truth
from simulator.pii_values import luhn_valid

START = datetime(2025, 3, 1, tzinfo=UTC)
FIELDS = [
    "id", "projectId", "projectName", "inputId", "sessionId", "contactId", "organisation", "inputText",
    "inputData", "type", "source", "timestamp", "flowName", "flowParentId", "channel", "inHandoverRequest",
    "inHandoverConversation", "outputId", "inputAttachments", "reference", "localeReferenceId",
    "endpointUrlToken", "endpointName", "snapshotId", "snapshotName", "rating", "ratingComment",
]
ENTITY_TYPES = {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "STREET_ADDRESS"}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate_dataset(seed=11, conversations=400, start=START)


def _by_id(dataset: Dataset) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in dataset.records}


def test_same_seed_gives_byte_identical_records_and_truth() -> None:
    first = generate_dataset(seed=5, conversations=60, start=START)
    second = generate_dataset(seed=5, conversations=60, start=START)
    assert msgspec.json.encode(first.records) == msgspec.json.encode(second.records)
    assert msgspec.json.encode(first.ground_truth) == msgspec.json.encode(second.ground_truth)


def test_other_seed_gives_other_records() -> None:
    first = generate_dataset(seed=5, conversations=60, start=START)
    other = generate_dataset(seed=6, conversations=60, start=START)
    assert msgspec.json.encode(first.records) != msgspec.json.encode(other.records)


def test_records_are_shaped_like_odata_conversations(dataset: Dataset) -> None:
    for record in dataset.records:
        assert list(record) == FIELDS
        assert re.fullmatch(r"[0-9a-f]{24}", record["id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
        assert re.fullmatch(r"user-[0-9a-f]{6}", record["contactId"])
        assert isinstance(record["inputData"], dict)
        assert (record["type"], record["source"]) in {("input", "user"), ("output", "bot")}
        assert (record["outputId"] is None) == (record["source"] == "user")
    assert len({record["id"] for record in dataset.records}) == len(dataset.records)


def test_records_are_sorted_and_inside_the_window(dataset: Dataset) -> None:
    keys = [(record["timestamp"], record["id"]) for record in dataset.records]
    assert keys == sorted(keys)
    first = datetime.fromisoformat(dataset.records[0]["timestamp"])
    last = datetime.fromisoformat(dataset.records[-1]["timestamp"])
    assert first >= START
    assert last < START + timedelta(days=30)


def test_a_dataset_can_span_seconds_with_distinct_timestamps_in_order() -> None:
    start = START + timedelta(microseconds=1500)  # records still fall inside [start, end)
    records = generate_dataset(seed=11, conversations=200, start=start, seconds=5.0).records
    moments = [datetime.fromisoformat(record["timestamp"]) for record in records]
    assert [(r["timestamp"], r["id"]) for r in records] == sorted((r["timestamp"], r["id"]) for r in records)
    assert len(set(moments)) == len(moments) > 1500  # no ties, however dense
    assert start <= moments[0] < start + timedelta(seconds=0.5) and start + timedelta(seconds=4.5) < moments[-1]
    assert moments[-1] < start + timedelta(seconds=5)
    assert all(list(record) == FIELDS for record in records)
    assert dataset_window(SimulatorConfig(dataset_start=start, dataset_seconds=5.0)) == (
        start, start + timedelta(seconds=5))
    with pytest.raises(ValueError, match="do not fit"):
        generate_dataset(seed=11, conversations=200, start=START, seconds=0.5)


def test_naive_start_is_taken_as_utc() -> None:
    aware = generate_dataset(seed=3, conversations=5, start=START)
    naive = generate_dataset(seed=3, conversations=5, start=START.replace(tzinfo=None))
    assert aware.records == naive.records


def test_sessions_alternate_bot_and_user_for_4_to_12_turns(dataset: Dataset) -> None:
    sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in dataset.records:
        sessions[record["sessionId"]].append(record)
    assert len(sessions) == 400
    for turns in sessions.values():
        assert 4 <= len(turns) <= 12
        assert [turn["source"] for turn in turns] == ["bot", "user"] * (len(turns) // 2) + ["bot"] * (
            len(turns) % 2
        )
        assert len({turn["contactId"] for turn in turns}) == 1


def test_planted_values_sit_at_their_recorded_offsets(dataset: Dataset) -> None:
    records = _by_id(dataset)
    for pii in dataset.ground_truth:
        record = records[pii.record_id]
        assert record["sessionId"] == pii.session_id
        assert record[pii.field][pii.start : pii.end] == pii.value
        assert pii.value in record[pii.field]
        assert record["source"] == "user"


def test_every_entity_type_is_planted(dataset: Dataset) -> None:
    assert {pii.entity_type for pii in dataset.ground_truth} == ENTITY_TYPES


def test_planted_cards_pass_luhn_and_phones_are_valid_numbers(dataset: Dataset) -> None:
    cards = [pii.value for pii in dataset.ground_truth if pii.entity_type == "CREDIT_CARD"]
    phones = [pii.value for pii in dataset.ground_truth if pii.entity_type == "PHONE_NUMBER"]
    assert cards and phones
    for card in cards:
        assert luhn_valid(card), card
        assert len(re.sub(r"\D", "", card)) in {15, 16}
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "US")), phone
    assert any(phone.startswith(("+44", "+49", "+33")) for phone in phones)


def test_names_come_in_lower_case_too(dataset: Dataset) -> None:
    names = [pii.value for pii in dataset.ground_truth if pii.entity_type == "PERSON"]
    assert any(name == name.lower() for name in names)
    assert any(name != name.lower() for name in names)


def test_luhn_check() -> None:
    assert luhn_valid("4111 1111 1111 1111")
    assert luhn_valid("3782-822463-10005")
    assert not luhn_valid("4111 1111 1111 1112")
    assert not luhn_valid("")


def test_some_records_come_masked_by_cognigy_and_carry_no_truth(dataset: Dataset) -> None:
    masked = {record["id"] for record in dataset.records if record["inputText"] == COGNIGY_MASK}
    assert 0.01 < len(masked) / len(dataset.records) < 0.06
    assert not masked & {pii.record_id for pii in dataset.ground_truth}


def test_most_user_turns_carry_no_pii_and_lookalikes_are_not_truth(dataset: Dataset) -> None:
    with_pii = {pii.record_id for pii in dataset.ground_truth}
    user_turns = [record for record in dataset.records if record["source"] == "user"]
    assert sum(record["id"] in with_pii for record in user_turns) < len(user_turns) / 3
    lookalikes = [
        record for record in user_turns if re.search(r"(?<![\d-])\d{4}-\d{4}(?![\d-])", record["inputText"])
    ]
    assert lookalikes
    assert not {record["id"] for record in lookalikes} & with_pii


def test_bot_asks_for_what_the_user_then_gives(dataset: Dataset) -> None:
    last_bot_turn: dict[str, str] = {}  # session id -> what the bot said last
    question_before: dict[str, str] = {}  # user record id -> the bot turn it answers
    for record in dataset.records:
        if record["source"] == "bot":
            last_bot_turn[record["sessionId"]] = record["inputText"]
        else:
            question_before[record["id"]] = last_bot_turn[record["sessionId"]]
    emails = [pii for pii in dataset.ground_truth if pii.entity_type == "EMAIL_ADDRESS"]
    assert emails
    assert all("email" in question_before[pii.record_id] for pii in emails)


def test_ground_truth_is_written_as_json_lines(dataset: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    write_ground_truth(dataset, path)
    lines = path.read_bytes().splitlines()
    assert [msgspec.json.decode(line, type=PlantedPii) for line in lines] == dataset.ground_truth
