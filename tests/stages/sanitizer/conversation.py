"""Cognigy Conversations records for tests: one record per turn, as the OData/REST API returns them."""

from __future__ import annotations

import json
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


_FIRST = ["jane", "John", "maría", "Peter", "aisha", "Liam", "olivia", "Noah", "Emma", "lucas"]
_LAST = ["doe", "Smith", "garcía", "Parker", "khan", "Müller", "brown", "Dubois", "Rossi", "nguyen"]
_REQUESTS = [
    "I need help with my order", "my package never arrived", "how do I reset my password?",
    "I want to cancel my subscription", "the app keeps crashing when I log in", "can I change my delivery date?",
]
_EXTRAS = [
    "you can also call me on {phone}", "ship it to {address} please", "charge card {card}",
    "thanks, that's all", "ok", "why is this taking so long?", "my order number is 30123456",
]


def typical_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` records of ~10-turn support chats: a request, name and email asked and answered, the bot
    echoing them, sometimes a phone number, address or card, a rating comment."""
    import random

    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    session_index = 0
    while len(records) < count:
        session = f"session-{session_index:06d}"
        session_index += 1
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last}@example.com".lower()
        extra = rng.choice(_EXTRAS).format(
            phone=f"+1 202-555-{rng.randrange(100, 200):04d}", address=f"{rng.randrange(1, 999)} Elm Street",
            card="4111 1111 1111 1111")
        turns = [
            ("bot", "Hi! I'm the virtual assistant. How can I help you today?"),
            ("user", rng.choice(_REQUESTS)),
            ("bot", "I can help with that. What's your name?"),
            ("user", f"{first} {last}"),
            ("bot", f"Thanks {first}! What's your email address?"),
            ("user", email),
            ("bot", f"Got it, I sent a confirmation to {email}."),
            ("user", extra),
            ("bot", "Is there anything else I can do for you?"),
            ("user", "no thanks, bye"),
        ]
        for index, (source, text) in enumerate(turns):
            record = turn(len(records), source, text, session=session)
            record["timestamp"] = f"2024-06-04T10:{index:02d}:00.000Z"
            if source == "user" and index == 5:
                record["inputData"] = json.dumps({"email": email, "channel": "webchat3"})
            if index == 9:
                record["ratingComment"] = f"{first.title()} was helped quickly"
            records.append(record)
    return records[:count]
