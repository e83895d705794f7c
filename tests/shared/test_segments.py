"""The segment format: deterministic bytes, JSONL with the shipped dictionary, CSV, and reading back."""

from __future__ import annotations

import csv
import io

import pytest
import zstandard

from shared.archive.segments import (
    decode_segment,
    dictionary_id,
    encode_csv,
    encode_segment,
    load_dictionary,
    segment_dictionary_id,
    segment_key,
)
from shared.errors import SegmentError
from tests.archive_fixtures import conversation_records

DICTIONARY = load_dictionary("builtin")


def test_the_same_page_always_gives_the_same_bytes_under_the_same_key() -> None:
    records = conversation_records(50)
    assert encode_segment(records, "jsonl", DICTIONARY) == encode_segment(list(records), "jsonl", DICTIONARY)
    assert segment_key("e", "p.transcripts.sanitized", 3, 1234) == (
        "e/segments/p.transcripts.sanitized+3+00000000000000001234.jsonl.zst")


def test_jsonl_segments_name_the_dictionary_and_read_back_with_it() -> None:
    records = conversation_records(50)
    data = encode_segment(records, "jsonl", DICTIONARY)
    assert segment_dictionary_id(data) == dictionary_id(DICTIONARY) != 0
    assert decode_segment(data, "jsonl", {dictionary_id(DICTIONARY): DICTIONARY}) == records
    assert len(data) < len(encode_segment(records, "jsonl", None)) * 0.85  # what the dictionary is for
    with pytest.raises(SegmentError, match="needs zstd dictionary"):
        decode_segment(data, "jsonl", {})
    # Plain zstd reads it too, given the dictionary: nothing of ours is needed to open the archive.
    plain = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(DICTIONARY)).decompress(data)
    assert plain.count(b"\n") == 50


def test_csv_segments_have_one_header_and_a_row_per_record() -> None:
    records = [{"id": "1", "inputText": 'said "hi", then left', "inputData": {"a": [1, 2]}, "rating": None,
                "inHandoverRequest": False}, {"id": "2", "inputText": "line\nbreak", "extra": 3}]
    text = encode_csv(records).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "inputText", "inputData", "rating", "inHandoverRequest", "extra"]
    assert rows[1] == ["1", 'said "hi", then left', '{"a":[1,2]}', "", "false", ""]
    assert rows[2] == ["2", "line\nbreak", "", "", "", "3"]
    data = encode_segment(records, "csv", DICTIONARY)
    assert segment_dictionary_id(data) == 0  # the JSON dictionary is not used for CSV
    assert [r["id"] for r in decode_segment(data, "csv")] == ["1", "2"]


def test_damaged_segments_are_reported_not_crashed_on() -> None:
    data = bytearray(encode_segment(conversation_records(5), "jsonl", None))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(SegmentError):
        decode_segment(bytes(data))
