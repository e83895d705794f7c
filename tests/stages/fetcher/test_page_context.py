"""The fetcher carries over, with each page, the last records of the previous page of every session the
page goes on with, so that a question asked just before a page break still explains the answer after it."""

from __future__ import annotations

from typing import Any

import msgspec

from stages.fetcher.pages import CONTEXT_RECORDS_PER_SESSION, carried_context, page_body


def record(n: int, session: str) -> dict[str, Any]:
    return {"id": f"r{n}", "sessionId": session, "timestamp": f"2025-01-01T00:00:{n:02d}Z", "inputText": f"t{n}"}


def test_only_sessions_that_go_on_and_only_their_last_records() -> None:
    previous = page_body([record(1, "a"), record(2, "b"), record(3, "a"), record(4, "a"), record(5, "c"),
                          record(6, "a"), record(7, "b")])
    body = page_body([record(8, "a"), record(9, "d"), record(10, "b")])
    carried = msgspec.json.decode(carried_context(previous, body))["items"]
    assert CONTEXT_RECORDS_PER_SESSION == 3
    assert [r["id"] for r in carried] == ["r2", "r3", "r4", "r6", "r7"]  # a: last 3; b: both; c ends here


def test_nothing_to_carry() -> None:
    previous = page_body([record(1, "a")])
    assert carried_context(previous, page_body([record(2, "b")])) == b""
    assert carried_context(b"not json", page_body([record(2, "a")])) == b""
    assert carried_context(previous, b'{"items": [1, 2]}') == b""
