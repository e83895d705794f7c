"""A page as the fetcher hands it on: the body exactly as published, its checksum, where the next starts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec


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


class _Items(msgspec.Struct):
    items: list[msgspec.Raw] = []


class _Session(msgspec.Struct):
    sessionId: str | None = None


CONTEXT_RECORDS_PER_SESSION = 3  # a question and the bot turns around it


def carried_context(previous: bytes, body: bytes) -> bytes:
    """The last records of `previous` of each session that goes on in `body`, as a page body; b"" when no
    session crosses the break or either page does not parse (the verifier judges pages, not this)."""
    try:
        before = msgspec.json.decode(previous, type=_Items).items
        after = msgspec.json.decode(body, type=_Items).items
        sessions_before = [msgspec.json.decode(item, type=_Session).sessionId for item in before]
        going_on = {msgspec.json.decode(item, type=_Session).sessionId for item in after}
    except (msgspec.DecodeError, msgspec.ValidationError):
        return b""
    kept: list[int] = []
    for session in going_on - {None}:
        positions = [i for i, s in enumerate(sessions_before) if s == session]
        kept += positions[-CONTEXT_RECORDS_PER_SESSION:]
    if not kept:
        return b""
    return msgspec.json.encode({"items": [before[i] for i in sorted(kept)]})


def count_items(body: bytes) -> int:
    """Records in a page, for progress only; a page that does not parse counts 0 and the verifier sends
    it to the DLQ with the reason."""
    try:
        return len(msgspec.json.decode(body, type=_Items).items)
    except msgspec.DecodeError:
        return 0


def with_record_id(item: dict[str, Any], fallback: str) -> dict[str, Any]:
    """A record keyed by `id` first: OData v2.3 and the REST API call it `_id`; `fallback` when neither has
    one (the REST schema does not promise it)."""
    record_id = item.get("id") or item.get("_id") or fallback
    return {"id": record_id, **{k: v for k, v in item.items() if k not in ("id", "_id")}}
