"""The subject index: which records of an export hold a given tokenized identifier, found without reading
the export's segments.

What is indexed, per record: every PII token in it (`[EMAIL_ADDRESS_k1_<hex>]` from `tokenize`,
`[EMAIL_ADDRESS_k1_enc:...]` from `encrypt`: both are deterministic, so `subject find` can compute them
from a raw value; the sanitizer always tokenizes `contactId`, so contact ids are tokens too), and its
`sessionId`, for whole-conversation requests. An index key is the first 64 bits of SHA-256 over the kind
and the value: no raw value, and not even the token itself, is stored. Masked and redacted values leave
nothing to index (that is what those actions are for); such records are still found through the contact
id. A 64-bit key can collide; readers confirm each hit in the record itself before acting on it.

The archiver packs each segment's entries (key, record number) into the segment's metadata; when the
export is complete the notifier merges them into one sorted file per export, `<export_id>/subjects.idx`
(`subjects.e<n>.idx` after the n-th erasure), listed in the manifest with its SHA-256. Layout, all
big-endian:

    header   MAGIC, entries (u64), block size (u32), blocks (u32)
    fences   blocks x u64: the first key of each block of `block size` keys
    keys     entries x u64, sorted
    postings entries x (segment u32, record u32): segment = position in the manifest's segment list

A lookup reads the header and fences, then one block of keys and the postings it needs (ranged reads, so
an index of millions of entries is never loaded whole, on disk or S3).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from shared.archive.storage import ObjectStore
from shared.errors import ArchiverError

MAGIC = b"CASUBIX1"
HEADER = struct.Struct(">8sQII")
BLOCK_KEYS = 4096
INDEXED_FIELDS = ("sessionId",)
_TOKEN = re.compile(rb"\[[A-Z][A-Z0-9_]*_[A-Za-z0-9]+_(?:[0-9a-f]{16}|enc:[A-Za-z0-9_-]+)\]")
_SEGMENT_ENTRY = np.dtype([("key", ">u8"), ("record", ">u4")])
_KEY = np.dtype(">u8")
_POSTING = np.dtype([("segment", ">u4"), ("record", ">u4")])
_json = msgspec.json.Encoder()

Keys = npt.NDArray[np.uint64]


class SubjectIndexError(ArchiverError):
    """An index object that is not one, or is damaged."""

    code = "subject_index_error"


def token_key(token: str) -> int:
    return _key(b"token", token)


def field_key(field: str, value: str) -> int:
    return _key(field.encode(), value)


def _key(kind: bytes, value: str) -> int:
    return int.from_bytes(hashlib.sha256(kind + b"\0" + value.encode()).digest()[:8], "big")


def record_tokens(record: Mapping[str, Any]) -> set[str]:
    """Every PII token anywhere in the record (they survive JSON escaping unchanged)."""
    return {t.decode() for t in _TOKEN.findall(_json.encode(record))}


def record_keys(record: Mapping[str, Any]) -> set[int]:
    keys = {token_key(t) for t in record_tokens(record)}
    keys.update(field_key(f, v) for f in INDEXED_FIELDS if isinstance(v := record.get(f), str) and v)
    return keys


def segment_entries(records: Sequence[Mapping[str, Any]]) -> str:
    """A segment's entries, sorted, packed and base64-encoded for its metadata."""
    return joined_entries([(record_entries(records), len(records))])


def record_entries(records: Sequence[Mapping[str, Any]]) -> npt.NDArray[Any]:
    """The entries of records numbered from 0: a segment's, or those of a run of records in one."""
    pairs = sorted((key, number) for number, record in enumerate(records) for key in record_keys(record))
    return np.array(pairs, dtype=_SEGMENT_ENTRY)


def joined_segments(segments: Sequence[tuple[str, int]]) -> str:
    """The packed entries of a segment made of whole segments, one after another: each one's packed entries
    and its record count."""
    return joined_entries([(np.frombuffer(base64.b64decode(packed), dtype=_SEGMENT_ENTRY), count)
                           for packed, count in segments])


def joined_entries(runs: Sequence[tuple[npt.NDArray[Any], int]]) -> str:
    """The packed entries of a segment made of consecutive runs of records: each run's entries (numbered from
    0, `record_entries`) and its record count."""
    shifted, start = [], 0
    for entries, count in runs:
        moved = entries.copy()
        moved["record"] += start
        shifted.append(moved)
        start += count
    joined = np.sort(np.concatenate(shifted), order=["key", "record"]) if shifted else np.empty(0, _SEGMENT_ENTRY)
    return base64.b64encode(joined.astype(_SEGMENT_ENTRY).tobytes()).decode()  # sorting may swap byte order


def build_index(segments: Sequence[str]) -> bytes:
    """The export index from each segment's packed entries, in manifest order."""
    parts = [np.frombuffer(base64.b64decode(s), dtype=_SEGMENT_ENTRY) for s in segments]
    keys = np.concatenate([p["key"] for p in parts]) if parts else np.empty(0, _KEY)
    numbers = np.concatenate([np.full(len(p), i, np.uint32) for i, p in enumerate(parts)]) if parts else (
        np.empty(0, np.uint32))
    records = np.concatenate([p["record"] for p in parts]) if parts else np.empty(0, np.uint32)
    return _pack(keys, numbers, records)


def replace_segments(index: bytes, replaced: Mapping[int, str]) -> bytes:
    """The index with the entries of the segments at these positions replaced by new packed entries."""
    keys, postings = _unpack(index)
    keep = ~np.isin(postings["segment"], np.fromiter(replaced, np.uint32, len(replaced)))
    new = [(np.frombuffer(base64.b64decode(s), dtype=_SEGMENT_ENTRY), n) for n, s in replaced.items()]
    return _pack(np.concatenate([keys[keep], *(p["key"] for p, _ in new)]),
                 np.concatenate([postings["segment"][keep], *(np.full(len(p), n, np.uint32) for p, n in new)]),
                 np.concatenate([postings["record"][keep], *(p["record"] for p, _ in new)]))


def _pack(keys: npt.NDArray[Any], segments: npt.NDArray[Any], records: npt.NDArray[Any]) -> bytes:
    order = np.lexsort((records, segments, keys))
    keys = keys[order].astype(_KEY)
    postings = np.empty(len(order), _POSTING)
    postings["segment"] = segments[order]
    postings["record"] = records[order]
    fences = keys[::BLOCK_KEYS]
    return b"".join((HEADER.pack(MAGIC, len(keys), BLOCK_KEYS, len(fences)), fences.tobytes(), keys.tobytes(),
                     postings.tobytes()))


def _unpack(index: bytes) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    entries, _, blocks = _header(index[:HEADER.size])
    keys_at = HEADER.size + blocks * 8
    keys = np.frombuffer(index, _KEY, entries, keys_at)
    return keys, np.frombuffer(index, _POSTING, entries, keys_at + entries * 8)


def entry_count(index: bytes) -> int:
    return _header(index[:HEADER.size])[0]


def _header(data: bytes) -> tuple[int, int, int]:
    if len(data) < HEADER.size:
        raise SubjectIndexError("subject index too short")
    magic, entries, block, blocks = HEADER.unpack(data[:HEADER.size])
    if magic != MAGIC or block < 1 or blocks != -(-entries // block):
        raise SubjectIndexError("not a subject index (bad header)")
    return int(entries), int(block), int(blocks)


async def lookup(store: ObjectStore, index_key: str, wanted: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """For each wanted key found in the index: its (segment position, record number) pairs."""
    entries, block, blocks = _header(await store.get_range(index_key, 0, HEADER.size))
    if not entries:
        return {}
    fences = np.frombuffer(await store.get_range(index_key, HEADER.size, blocks * 8), _KEY).tolist()
    keys_at = HEADER.size + blocks * 8
    postings_at = keys_at + entries * 8
    found: dict[int, list[tuple[int, int]]] = {}
    for key in sorted(set(wanted)):
        first_block = max(bisect.bisect_left(fences, key) - 1, 0)  # a run may start in the previous block
        last_block = max(bisect.bisect_right(fences, key) - 1, 0)
        start = first_block * block
        end = min((last_block + 1) * block, entries)
        keys = np.frombuffer(await store.get_range(index_key, keys_at + start * 8, (end - start) * 8), _KEY)
        low = int(np.searchsorted(keys, np.uint64(key), side="left"))
        high = int(np.searchsorted(keys, np.uint64(key), side="right"))
        if low == high:
            continue
        data = await store.get_range(index_key, postings_at + (start + low) * 8, (high - low) * 8)
        postings = np.frombuffer(data, _POSTING)
        found[key] = list(zip(postings["segment"].tolist(), postings["record"].tolist(), strict=True))
    return found
