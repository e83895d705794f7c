"""The subject index: every lookup, over blocks and runs of any length, equals a scan of the records;
replacing segments' entries (an erasure) equals rebuilding from scratch; tokens of both reversible and
irreversible actions are indexed, raw values never."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from shared.archive import subject_index
from shared.archive.storage import FilesystemStore
from shared.archive.subject_index import (
    build_index,
    entry_count,
    field_key,
    lookup,
    record_keys,
    record_tokens,
    replace_segments,
    segment_entries,
    token_key,
)
from stages.sanitizer.actions import Pseudonymizer


def random_segments(rng: random.Random, segments: int) -> list[list[dict[str, Any]]]:
    def record() -> dict[str, Any]:
        tokens = " ".join(f"[EMAIL_ADDRESS_k1_{rng.randrange(6):016x}]" for _ in range(rng.randrange(3)))
        return {"contactId": f"[CONTACT_ID_k1_{rng.randrange(4):016x}]", "sessionId": f"s-{rng.randrange(10)}",
                "inputText": f"mail me at {tokens}", "inputData": {"x": "[PHONE_NUMBER_k1_00000000000000ff]"}}
    return [[record() for _ in range(rng.randrange(12))] for _ in range(segments)]


def scan(segments: list[list[dict[str, Any]]], key: int) -> list[tuple[int, int]]:
    return [(s, r) for s, records in enumerate(segments) for r, record in enumerate(records)
            if key in record_keys(record)]


def probe_keys() -> list[int]:
    return ([token_key(f"[CONTACT_ID_k1_{i:016x}]") for i in range(5)] + [field_key("sessionId", f"s-{i}") for i in
            range(11)] + [token_key(f"[EMAIL_ADDRESS_k1_{i:016x}]") for i in range(7)]
            + [token_key("[PHONE_NUMBER_k1_00000000000000ff]")])


@pytest.mark.parametrize("block", [1, 3, 64, 4096])
async def test_lookups_equal_a_scan_of_every_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    block: int) -> None:
    monkeypatch.setattr(subject_index, "BLOCK_KEYS", block)  # small blocks: runs cross block boundaries
    store = FilesystemStore(tmp_path)
    rng = random.Random(block)
    segments = random_segments(rng, 40)
    index = build_index([segment_entries(s) for s in segments])
    assert entry_count(index) == sum(len(record_keys(r)) for s in segments for r in s)
    await store.put("e/subjects.idx", index)
    found = await lookup(store, "e/subjects.idx", probe_keys())
    for key in probe_keys():
        assert found.get(key, []) == scan(segments, key)
    # An erasure replaces some segments' entries: the same as building the index again.
    segments[3] = segments[3][1:]
    segments[17] = []
    replaced = replace_segments(index, {3: segment_entries(segments[3]), 17: segment_entries(segments[17])})
    assert replaced == build_index([segment_entries(s) for s in segments])


async def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await store.put("e/subjects.idx", build_index([segment_entries([]), segment_entries([])]))
    assert await lookup(store, "e/subjects.idx", probe_keys()) == {}


def test_tokens_of_tokenize_and_encrypt_are_indexed_and_no_raw_value_is_stored() -> None:
    pseudonymizer = Pseudonymizer(b"k" * 32, "k1")
    token = pseudonymizer.token("EMAIL_ADDRESS", "jane@example.com")
    encrypted = pseudonymizer.encrypt("PHONE_NUMBER", "+15550100")
    contact = pseudonymizer.token("CONTACT_ID", "user-1")
    record = {"inputText": f"it is {token}", "inputData": f'{{"phone": "{encrypted}"}}', "contactId": contact,
              "sessionId": "s-1", "ratingComment": "[PERSON] and ***** are not tokens"}
    assert record_tokens(record) == {token, encrypted, contact}
    assert record_keys(record) == {token_key(token), token_key(encrypted), token_key(contact),
                                   field_key("sessionId", "s-1")}
    index = build_index([segment_entries([record])])
    for raw in (b"jane", b"user-1", b"s-1", token.encode(), b"+1555"):
        assert raw not in index
