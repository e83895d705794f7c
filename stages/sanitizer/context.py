"""Conversation context: which entity types a text is likely to hold, beyond what the text itself shows.

Two signals:
- a bot turn that asks for a name, email, phone number, address or card number makes the user's next
  turn a strong candidate for that type ("jane doe" right after "What's your name?" is a name);
- an inputData value under a key such as `email`, `phone` or `firstName` is a candidate for that type.
Only bot turns ask: a user or agent turn ends what the bot asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

# A bot turn asks when it has a question mark or a request word; "Your email was updated." does not.
_REQUEST = re.compile(
    r"\?|\b(?:please|enter|provide|type|tell|share|give|send|confirm|need|spell|what|which|may|can|could)\b",
    re.IGNORECASE,
)
_ASKS_FOR: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PERSON", re.compile(
        r"\b(?:your|ur)\s+(?:full\s+|first\s+|last\s+|given\s+|family\s+|sur)?name\b"
        r"|\bname\s+(?:please|on\s+the\s+(?:account|booking|reservation|order|card))\b"
        r"|\bwho\s+(?:am\s+i|are\s+you)\b|\bwhat\s+(?:should|can|may)\s+i\s+call\s+you\b",
        re.IGNORECASE)),
    ("EMAIL_ADDRESS", re.compile(r"\be-?mail\b", re.IGNORECASE)),
    ("PHONE_NUMBER", re.compile(
        r"\b(?:phone|mobile|cell|telephone|callback|call\s+back|whatsapp)\b|\breach\s+you\b", re.IGNORECASE)),
    # "address" alone, but not "email address" or "IP address".
    ("STREET_ADDRESS", re.compile(
        r"\b(?<!mail\s)(?<!ip\s)address\b|\bwhere\s+do\s+you\s+live\b|\bpost\s*code\b|\bzip\b",
        re.IGNORECASE)),
    ("CREDIT_CARD", re.compile(r"\b(?:card|credit|debit)\b", re.IGNORECASE)),
)

# inputData keys (lower case, without separators) that name what their value holds.
_KEY_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ("name", "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "middlename",
         "customername", "contactname", "displayname", "nickname"), "PERSON"),
    **dict.fromkeys(("email", "emailaddress", "mail", "useremail", "contactemail"), "EMAIL_ADDRESS"),
    **dict.fromkeys(
        ("phone", "phonenumber", "mobile", "mobilenumber", "cell", "cellphone", "telephone", "tel", "msisdn"),
        "PHONE_NUMBER"),
    **dict.fromkeys(
        ("address", "street", "streetaddress", "address1", "address2", "addressline1", "addressline2",
         "homeaddress", "shippingaddress", "billingaddress"), "STREET_ADDRESS"),
    **dict.fromkeys(
        ("card", "cardnumber", "creditcard", "creditcardnumber", "ccnumber", "pan"), "CREDIT_CARD"),
}
_KEY_SEPARATORS = re.compile(r"[\s_.-]")

_NOTHING: frozenset[str] = frozenset()


def asked_types(bot_text: str) -> frozenset[str]:
    """The entity types a bot turn asks the user for."""
    if not _REQUEST.search(bot_text):
        return _NOTHING
    return frozenset(entity for entity, pattern in _ASKS_FOR if pattern.search(bot_text))


def key_types(key: str) -> frozenset[str]:
    """The entity type an inputData key announces for its value, if any."""
    entity = _KEY_TYPES.get(_KEY_SEPARATORS.sub("", key.lower()))
    return frozenset((entity,)) if entity else _NOTHING


def expected_types(records: Sequence[Mapping[str, Any]]) -> list[frozenset[str]]:
    """For each record (in the given order), the types its inputText is expected to hold: those the bot
    asked for since the previous user or agent turn of the same session, for user turns; nothing for
    others. Records are read per session in timestamp order, whatever order they come in.

    A session cut across pages loses the question that sits on the previous page."""
    expected = [_NOTHING] * len(records)
    asked: dict[Any, frozenset[str]] = {}
    for index in sorted(range(len(records)), key=lambda i: _session_order(records[i], i)):
        record = records[index]
        session = record.get("sessionId")
        source = record.get("source")
        if source == "bot":
            text = record.get("inputText")
            if isinstance(text, str):
                asked[session] = asked.get(session, _NOTHING) | asked_types(text)
        elif source in ("user", "agent"):
            if source == "user":
                expected[index] = asked.get(session, _NOTHING)
            asked.pop(session, None)
    return expected


def _session_order(record: Mapping[str, Any], index: int) -> tuple[str, bool, float, int]:
    # Unparseable timestamps sort after parseable ones, in the order the records came.
    instant = _instant(record.get("timestamp"))
    return (str(record.get("sessionId")), instant is None, instant or 0.0, index)


def _instant(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.timestamp()
