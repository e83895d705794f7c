"""Reading JSON from outside without recursing into it (shared/nesting.py): depth checks that agree with a
parser, and pages and records split without recursion however deep one record nests."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.nesting import (
    MAX_DEPTH,
    TooDeeplyNested,
    check_depth,
    decode_json,
    json_array,
    json_too_deep,
    shallow,
)

# Text that looks like structure: brackets, quotes and backslashes inside strings must not count.
_text = st.text(alphabet=st.sampled_from('ab[]{}",\\:\n é'), max_size=8)
_json = st.recursive(st.none() | st.booleans() | st.integers() | _text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                     max_leaves=30)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def nested(levels: int) -> bytes:
    """An array `levels` deep, inside an object: the record is level 1."""
    return b'{"inputData":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@settings(max_examples=300, deadline=None)
@given(_json, st.integers(min_value=0, max_value=6))
def test_the_depth_check_agrees_with_the_value(value: Any, limit: int) -> None:
    data = msgspec.json.encode(value)
    assert json_too_deep(data, limit) == (depth(value) > limit)
    too_deep = depth(value) > limit
    try:
        check_depth(value, limit)
        assert not too_deep
    except TooDeeplyNested:
        assert too_deep


def test_a_record_of_max_depth_decodes_and_one_level_more_is_refused() -> None:
    assert decode_json(nested(MAX_DEPTH))["inputData"] is not None
    for levels in (MAX_DEPTH + 1, 5_000, 1_000_000):
        with pytest.raises(TooDeeplyNested, match=f"deeper than {MAX_DEPTH} levels") as caught:
            decode_json(nested(levels))
        assert caught.value.details["problems"] == [{"field": "$", "problem": caught.value.message}]
    with pytest.raises(msgspec.DecodeError):
        decode_json(b'{"a": [1, 2}')


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(_text, _json, max_size=4), max_size=6), st.integers(min_value=0, max_value=6))
def test_a_page_splits_into_its_records_byte_for_byte_however_deep_one_nests(
        records: list[dict[str, Any]], at: int) -> None:
    plain = [msgspec.json.encode(r) for r in records]
    body = msgspec.json.encode({"other": [{"x": 1}], "items": records})
    assert json_array(body, "items") == plain
    # One record too deep for msgspec even to skip: the page is split without recursion.
    deep = nested(3_000)
    with_deep = [*plain[:at], deep, *plain[at:]]
    body = b'{"other":[{"x":1}],"items":[' + b",".join(with_deep) + b"]}"
    with pytest.raises(RecursionError):
        msgspec.json.decode(body)
    assert json_array(body, "items") == with_deep


@pytest.mark.parametrize("body", [
    b'{"items":[' + b"[" * 5_000,  # brackets that never close
    b'{"items":[' + nested(5_000) + b"],}",  # not JSON around the deep record
    b'{"nothing":[' + nested(5_000) + b"]}",
    b'{"items":{"a":' + nested(5_000) + b"}}",
    b'[' + nested(5_000) + b"]",
])
def test_a_page_that_is_not_one_is_refused_whatever_its_depth(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        json_array(body, "items")


def test_shallow_reads_top_level_fields_and_keeps_the_rest_as_sent() -> None:
    data = b'{"id":"r1","n":2,"inputData":' + b"[" * 5_000 + b"]" * 5_000 + b',"tags":["a",{"b":[]}],"t":"x"}'
    top = shallow(data)
    assert isinstance(top, dict) and (top["id"], top["n"], top["t"]) == ("r1", 2, "x")
    assert isinstance(top["inputData"], msgspec.Raw) and isinstance(top["tags"], msgspec.Raw)
    assert msgspec.json.encode(top) == data  # encoded back byte for byte
    listed = shallow(b'[1,{"a":[2]},"s"]')
    assert isinstance(listed, list) and (listed[0], bytes(listed[1]), listed[2]) == (1, b'{"a":[2]}', "s")
    for bad in (b'{"a":1,"a":[1]}', b'{"a":[1', b'"text"', b"{"):
        with pytest.raises(msgspec.DecodeError):
            shallow(bad)
