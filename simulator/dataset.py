"""The seeded synthetic dataset: Cognigy OData v2.4 `Conversations` records plus the planted-PII truth.

Everything random flows from one `random.Random(seed)`, consumed in a fixed order, so a seed yields
byte-identical records on every run and machine.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from simulator.dialogues import EntityType, Turn, script_conversation
from simulator.pii_values import make_persona
from simulator.vocabulary import (
    CHANNELS,
    FLOWS,
    LOCALE_REFERENCE_ID,
    ORGANISATION,
    PROJECT_ID,
    PROJECT_NAME,
    SNAPSHOT_ID,
    SNAPSHOT_NAME,
)

COGNIGY_MASK = "*****"
MASKED_USER_TURN_SHARE = 0.06  # user turns are half the records: about 3% of all records come masked
RATED_SESSION_SHARE = 0.15
RATING_COMMENTS = ("quick and helpful", "", "didn't understand my question", "great service")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000
_LAST_SESSION_MARGIN_MS = 3_600_000  # sessions start an hour before the window ends, so they end inside it


class PlantedPii(msgspec.Struct, frozen=True, kw_only=True):
    """One piece of PII placed in a record: `record[field][start:end] == value`."""

    record_id: str
    session_id: str
    field: str
    entity_type: EntityType
    value: str
    start: int
    end: int


class Dataset(msgspec.Struct, frozen=True, kw_only=True):
    records: list[dict[str, Any]]  # sorted by (timestamp, id)
    ground_truth: list[PlantedPii]  # in record order, then by offset


@dataclass(frozen=True)
class _Session:
    session_id: str
    contact_id: str
    channel: str


def generate_dataset(seed: int, conversations: int, start: datetime, days: int = 30, *,
                     seconds: float = 0.0) -> Dataset:
    """`conversations` sessions of 4-12 turns each, inside `days` days from `start` (naive = UTC), or inside
    `seconds` if that is > 0. No two records share a timestamp.

    A span shorter than a day holds a day's traffic sped up: the pauses within a session shrink by the
    same factor (to 1 ms at least), so a session still ends inside the span."""
    if conversations < 0:
        raise ValueError(f"conversations must be >= 0, got {conversations}")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    span_ms = int(seconds * 1000) if seconds > 0 else days * _DAY_MS
    speed = min(1.0, span_ms / _DAY_MS)
    margin_ms = round(_LAST_SESSION_MARGIN_MS * speed)
    if span_ms - margin_ms < 1:
        raise ValueError(f"a dataset must span at least 0.002 s, got {seconds} s")
    rng = random.Random(seed)
    origin_ms = _epoch_ms(start)
    taken: set[int] = set()
    # Fewer contacts than sessions: returning users have several sessions, as in real logs.
    contacts = [f"user-{rng.getrandbits(24):06x}" for _ in range(max(1, conversations * 2 // 3))]
    records: list[dict[str, Any]] = []
    planted: list[PlantedPii] = []
    for _ in range(conversations):
        session = _Session(
            session_id=f"session-{_uuid(rng)}",
            contact_id=rng.choice(contacts),
            channel=rng.choices(list(CHANNELS), weights=[6, 3, 2])[0],
        )
        begins_ms = origin_ms + rng.randrange(span_ms - margin_ms)
        _add_session(rng, session, begins_ms, speed, taken, records, planted)
    if taken and max(taken) >= origin_ms + span_ms:
        raise ValueError(f"{conversations} conversations do not fit in {span_ms / 1000} s at 1 ms apart")
    records.sort(key=lambda record: (record["timestamp"], record["id"]))
    position = {record["id"]: index for index, record in enumerate(records)}
    planted.sort(key=lambda pii: (position[pii.record_id], pii.start))
    return Dataset(records=records, ground_truth=planted)


def records_jsonl(dataset: Dataset) -> bytes:
    return b"".join(msgspec.json.encode(record) + b"\n" for record in dataset.records)


def ground_truth_jsonl(dataset: Dataset) -> bytes:
    return b"".join(msgspec.json.encode(pii) + b"\n" for pii in dataset.ground_truth)


def write_ground_truth(dataset: Dataset, path: str | Path) -> None:
    """One JSON object per line, one line per planted value."""
    Path(path).write_bytes(ground_truth_jsonl(dataset))


def _add_session(
    rng: random.Random,
    session: _Session,
    begins_ms: int,
    speed: float,
    taken: set[int],
    records: list[dict[str, Any]],
    planted: list[PlantedPii],
) -> None:
    persona = make_persona(rng)
    day = _to_datetime(begins_ms).date()
    turns = script_conversation(rng, persona, day, rng.randint(4, 12))
    rating = rng.choice((1, 1, -1)) if rng.random() < RATED_SESSION_SHARE else None
    now_ms = begins_ms
    input_id = _uuid(rng)
    for index, turn in enumerate(turns):
        if turn.source == "user":
            now_ms += max(1, round(rng.randint(3_000, 45_000) * speed))  # people take a while to type
            input_id = _uuid(rng)
        elif index > 0:
            now_ms += max(1, round(rng.randint(400, 2_500) * speed))
        while now_ms in taken:  # a later millisecond, so that no two records tie (the rng is not consumed)
            now_ms += 1
        taken.add(now_ms)
        is_last = index == len(turns) - 1
        record = _record(rng, session, turn, now_ms, input_id, rating if is_last else None)
        if turn.source == "user" and rng.random() < MASKED_USER_TURN_SHARE:
            # Cognigy's "Mask Sensitive Analytics": the text is gone, so nothing is left to find.
            record["inputText"] = COGNIGY_MASK
        else:
            text, spans = _compose(turn, lower=turn.source == "user" and session.channel == "voiceGateway2")
            record["inputText"] = text
            planted += [
                PlantedPii(
                    record_id=record["id"],
                    session_id=session.session_id,
                    field="inputText",
                    entity_type=entity_type,
                    value=text[begin:end],
                    start=begin,
                    end=end,
                )
                for entity_type, begin, end in spans
            ]
        if index == 0 and session.channel == "webchat3":
            record["inputData"] = _quick_replies(record["inputText"])
        if is_last and rating is not None:
            record["ratingComment"] = rng.choice(RATING_COMMENTS)
        records.append(record)


def _compose(turn: Turn, *, lower: bool) -> tuple[str, list[tuple[EntityType, int, int]]]:
    """Join a turn's parts; voice transcripts come lower-cased, as speech-to-text delivers them."""
    text = ""
    spans: list[tuple[EntityType, int, int]] = []
    for part in turn.parts:
        if isinstance(part, str):
            text += part.lower() if lower else part
        else:
            value, entity_type = part
            value = value.lower() if lower else value
            spans.append((entity_type, len(text), len(text) + len(value)))
            text += value
    return text, spans


def _record(
    rng: random.Random, session: _Session, turn: Turn, at_ms: int, input_id: str, rating: int | None
) -> dict[str, Any]:
    endpoint_name, endpoint_token = CHANNELS[session.channel]
    is_user = turn.source == "user"
    return {
        # Shaped like a MongoDB ObjectId: 4 bytes of seconds, then 8 random bytes.
        "id": f"{at_ms // 1000:08x}{rng.getrandbits(64):016x}",
        "projectId": PROJECT_ID,
        "projectName": PROJECT_NAME,
        "inputId": input_id,
        "sessionId": session.session_id,
        "contactId": session.contact_id,
        "organisation": ORGANISATION,
        "inputText": "",
        "inputData": {},
        "type": "input" if is_user else "output",
        "source": turn.source,
        "timestamp": _iso_millis(at_ms),
        "flowName": turn.flow,
        "flowParentId": FLOWS[turn.flow],
        "channel": session.channel,
        "inHandoverRequest": False,
        "inHandoverConversation": False,
        "outputId": None if is_user else _uuid(rng),
        "inputAttachments": None,
        "reference": None,
        "localeReferenceId": LOCALE_REFERENCE_ID,
        "endpointUrlToken": endpoint_token,
        "endpointName": endpoint_name,
        "snapshotId": SNAPSHOT_ID,
        "snapshotName": SNAPSHOT_NAME,
        "rating": rating,
        "ratingComment": None,
    }


def _quick_replies(text: str) -> dict[str, Any]:
    """The Webchat greeting's buttons, as Cognigy stores an output's data payload."""
    titles = ("Track an order", "Return an item", "Payment help")
    buttons = [{"title": title, "payload": title} for title in titles]
    quick_replies = {"type": "quick_replies", "text": text, "quickReplies": buttons}
    return {"_cognigy": {"_default": {"_quickReplies": quick_replies}}}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _epoch_ms(moment: datetime) -> int:
    """Rounded up: a record at it is not before `moment`, which may have microseconds."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return -((_EPOCH - aware) // timedelta(milliseconds=1))


def _to_datetime(epoch_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=epoch_ms)


def _iso_millis(epoch_ms: int) -> str:
    return _to_datetime(epoch_ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"

