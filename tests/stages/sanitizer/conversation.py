"""Cognigy Conversations records for tests: one record per turn, as the OData/REST API returns them."""

from __future__ import annotations

from typing import Any

SESSION = "session-2a38246e-0395-49a5-876d-dd5133fd5418"


def turn(index: int, source: str, text: str | None, session: str = SESSION, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"665f1c2e8b1d4a0012ab{index:04d}",
        "projectId": "5a91d194fde28b0011ce2422",
        "sessionId": session,
        "contactId": "contact-7f3a",
        "inputId": f"input-{index}",
        "inputText": text,
        "inputData": "{}",
        "type": "input" if source == "user" else "output",
        "source": source,
        "timestamp": f"2024-06-04T10:{index // 60:02d}:{index % 60:02d}.000Z",
        "channel": "webchat3",
        "rating": None,
        "ratingComment": None,
    }
    record.update(fields)
    return record


def dialogue(*turns: tuple[str, str], session: str = SESSION) -> list[dict[str, Any]]:
    """Records for ("bot" | "user" | "agent", text) pairs, in order."""
    return [turn(i, source, text, session) for i, (source, text) in enumerate(turns)]
