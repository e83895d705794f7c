"""A page as the fetcher hands it on: the body exactly as published, its checksum, where the next starts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec

from shared.nesting import TooDeeplyNested, decode_json, json_array, shallow


@dataclass(frozen=True)
class FetchedPage:
    body: bytes
    sha256: str  # the body's hash when verified; otherwise the checksum the source claimed
    records: int
    resume_token: str | None  # where the next page starts; None: this was the last
    verified: bool = True
    problem: str = ""  # why the page could not be verified


Pages = AsyncGenerator[FetchedPage, None]


def page_body(records: list[dict[str, Any]]) -> bytes:
    """`{"items": [...]}`, encoded as the export-job API encodes its pages, so that sources paging on the
    client side produce the same bytes for the same records."""
    return msgspec.json.encode({"items": records})


def local_page(records: list[dict[str, Any]], resume_token: str | None) -> FetchedPage:
    """A page the fetcher assembled itself (OData, REST): its checksum is of the bytes it built."""
    body = page_body(records)
    return FetchedPage(body, hashlib.sha256(body).hexdigest(), len(records), resume_token)


CONTEXT_RECORDS_PER_SESSION = 3  # a question and the bot turns around it


def source_record(raw: bytes) -> dict[str, Any]:
    """A record as the source sent it. One nested deeper than MAX_DEPTH keeps its objects and arrays as
    the text they came as (msgspec.Raw, encoded back byte for byte), for the verifier to refuse: the
    fetcher reads only its top-level fields. msgspec.DecodeError if it is not a JSON object."""
    try:
        record = decode_json(raw)
    except TooDeeplyNested:
        record = shallow(raw)
    if not isinstance(record, dict):
        raise msgspec.ValidationError("a record must be a JSON object")
    return record


def session_of(raw: bytes) -> str | None:
    """The record's session id; None if it has none (or not as a string). msgspec.DecodeError if it is not
    a JSON object."""
    session = source_record(raw).get("sessionId")
    return session if isinstance(session, str) else None


def carried_context(previous: bytes, body: bytes) -> bytes:
    """The last records of `previous` of each session that goes on in `body`, as a page body; b"" when no
    session crosses the break or either page does not parse (the verifier judges pages, not this)."""
    try:
        before = json_array(previous, "items")
        sessions_before = [session_of(item) for item in before]
        going_on = {session_of(item) for item in json_array(body, "items")}
    except msgspec.DecodeError:
        return b""
    kept: list[int] = []
    for session in going_on - {None}:
        positions = [i for i, s in enumerate(sessions_before) if s == session]
        kept += positions[-CONTEXT_RECORDS_PER_SESSION:]
    if not kept:
        return b""
    return msgspec.json.encode({"items": [msgspec.Raw(before[i]) for i in sorted(kept)]})


def count_items(body: bytes) -> int:
    """Records in a page, for progress only; a page that does not parse counts 0 and the verifier sends
    it to the DLQ with the reason."""
    try:
        return len(json_array(body, "items"))
    except msgspec.DecodeError:
        return 0


def with_record_id(item: dict[str, Any], fallback: str) -> dict[str, Any]:
    """A record keyed by `id` first: OData v2.3 and the REST API call it `_id`; `fallback` when neither has
    one (the REST schema does not promise it)."""
    record_id = item.get("id") or item.get("_id") or fallback
    return {"id": record_id, **{k: v for k, v in item.items() if k not in ("id", "_id")}}
