"""Conversation context: which entity types a text is likely to hold, beyond what the text itself shows.

Two signals:
- a bot turn that asks for a name, email, phone number, address, postal code, date of birth, card number,
  IBAN or SSN makes the user's next turn a strong candidate for that type ("jane doe" right after
  "What's your name?" is a name), and the short turns that follow it ("0143" after "415 555"), until
  the bot says something else; a bot turn that only asks to go on ("and the rest?") keeps the question
  open, so a value split over several user turns is one answer. A longer user turn is something else:
  it closes the question;
- an inputData value under a key such as `email`, `phone` or `firstName` is a candidate for that type.
Only bot turns ask: an agent turn ends what the bot asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

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
        r"\b(?:phone|mobile|cell|telephone|callback|call\s+back|whatsapp)\b|\b(?:reach|call|text)\s+you\b",
        re.IGNORECASE)),
    # "address" alone, but not "email address" or "IP address".
    ("STREET_ADDRESS", re.compile(
        r"\b(?<!mail\s)(?<!ip\s)address\b|\bwhere\s+do\s+you\s+live\b|\bwhere\s+should\s+we\s+(?:ship|send|deliver)",
        re.IGNORECASE)),
    ("POSTAL_CODE", re.compile(r"\b(?:zip|post\s*code|postal\s+code|plz)\b", re.IGNORECASE)),
    ("DATE_OF_BIRTH", re.compile(
        r"\b(?:date\s+of\s+birth|birth\s*date|birthday|dob|d\.o\.b|when\s+were\s+you\s+born)\b", re.IGNORECASE)),
    ("CREDIT_CARD", re.compile(r"\b(?:card|credit|debit)\b", re.IGNORECASE)),
    ("IBAN_CODE", re.compile(r"\b(?:iban|bank\s+account)\b", re.IGNORECASE)),
    ("US_SSN", re.compile(r"\b(?:ssn|social\s+security)\b", re.IGNORECASE)),
)
# A bot turn that asks the user to go on with the answer they started.
_GO_ON = re.compile(
    r"\b(?:go\s+on|continue|keep\s+going|and\s+the\s+rest|rest\s+of\s+(?:it|the)|remaining|next\s+(?:part|digits)|"
    r"try\s+again|once\s+more|say\s+(?:it|that)\s+again|repeat)\b",
    re.IGNORECASE,
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
CONTINUATION_WORDS = 4  # at most this many words: a later user turn still answers the question


class Expectation(msgspec.Struct, frozen=True):
    """What a user turn is expected to hold, and which bot turn (record index) asked for it: turns that
    answer the same question may hold one value between them."""

    types: frozenset[str] = _NOTHING
    question: int | None = None


_NONE = Expectation()


def asked_types(bot_text: str) -> frozenset[str]:
    """The entity types a bot turn asks the user for."""
    if not _REQUEST.search(bot_text):
        return _NOTHING
    return frozenset(entity for entity, pattern in _ASKS_FOR if pattern.search(bot_text))


def key_types(key: str) -> frozenset[str]:
    """The entity type an inputData key announces for its value, if any."""
    entity = _KEY_TYPES.get(_KEY_SEPARATORS.sub("", key.lower()))
    return frozenset((entity,)) if entity else _NOTHING


def expectations(records: Sequence[Mapping[str, Any]]) -> list[Expectation]:
    """For each record (in the given order), what its inputText is expected to hold: for user turns, what
    the bot's latest turns of the same session asked for (consecutive bot turns add up; one that asks
    nothing and does not ask to go on closes the question); nothing for others. Records are read per
    session in timestamp order, whatever order they come in.

    A session cut across pages keeps its question only if the records before the break are given first
    (the fetcher carries them over with the page: `RawPage.context`)."""
    result = [_NONE] * len(records)
    asked: dict[Any, Expectation] = {}
    bot_spoke_last: dict[Any, bool] = {}
    answered: set[Any] = set()  # sessions whose user has answered the open question at least once
    for index in sorted(range(len(records)), key=lambda i: _session_order(records[i], i)):
        record = records[index]
        session = record.get("sessionId")
        source = record.get("source")
        if source == "bot":
            text = record.get("inputText")
            text = text if isinstance(text, str) else ""
            types = asked_types(text)
            previous = asked.get(session, _NONE)
            if types:
                answered.discard(session)
            if bot_spoke_last.get(session):
                # Consecutive bot turns are one reply: what they ask adds up to one question.
                if types:
                    asked[session] = Expectation(
                        previous.types | types, index if previous.question is None else previous.question)
            elif types:
                asked[session] = Expectation(types, index)
            elif not _GO_ON.search(text):
                asked.pop(session, None)
            bot_spoke_last[session] = True
        elif source == "user":
            text = record.get("inputText")
            if session in answered and len(str(text).split()) > CONTINUATION_WORDS:
                asked.pop(session, None)
            result[index] = asked.get(session, _NONE)
            answered.add(session)
            bot_spoke_last[session] = False
        elif source == "agent":
            asked.pop(session, None)
            bot_spoke_last[session] = False
    return result



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
