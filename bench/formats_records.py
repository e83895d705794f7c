"""The two record sets of bench/formats_bench.py, as the archiver receives them: sanitized Cognigy
`Conversations` records in fetch (time) order.

- `simulator`: the bundled simulator's dataset (seed 7), as many conversations as give the records asked for.
- `chat_pii_dev`: the labeled contact-center conversations of /work/shared/eval/chat_pii_dev (written by
  hand, not by this project), one record per turn. The set has 1,348 turns, so it is repeated, each copy with
  new record, input, session and contact ids, its own times and its own PII values: the non-PII text repeats.

Both are sanitized from their labels instead of by the PII engine (which takes minutes for 200,000 records
here): every labeled value becomes the token the sanitizer's tokenize action writes (`Pseudonymizer.token`),
and `contactId` is tokenized as the sanitizer always does; what a perfect sanitizer under `ALL:tokenize` gives.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from simulator.dataset import generate_dataset
from simulator.server import dataset_window
from simulator.vocabulary import CHANNELS, LOCALE_REFERENCE_ID, ORGANISATION, SNAPSHOT_ID, SNAPSHOT_NAME
from stages.sanitizer.actions import Pseudonymizer
from stages.sanitizer.fields import CONTACT_ID

DEV_SET = Path("/work/shared/eval/chat_pii_dev/conversations.jsonl")
SEED = 7
DAYS = 30  # both sets spread over the simulator's 30-day window
SIMULATOR_RECORDS_PER_CONVERSATION = 7.9  # its 4-12 turns; a few more conversations than needed, never fewer
_TOKENS = Pseudonymizer(b"formats-bench-tokenization-key-0123", "k1")
# The dev set's channels as Cognigy endpoints
_CHANNEL = {"voice": "voiceGateway2", "webchat": "webchat3", "whatsapp": "whatsapp"}


def simulator_records(at_least: int) -> list[dict[str, Any]]:
    conversations = int(at_least / SIMULATOR_RECORDS_PER_CONVERSATION) + 1
    dataset = generate_dataset(SEED, conversations, dataset_window()[0], days=DAYS)
    spans: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    for pii in dataset.ground_truth:  # the simulator plants PII in inputText only
        spans[pii.record_id].append((pii.start, pii.end, pii.entity_type, pii.value))
    records = [_sanitized(r, r["inputText"], spans.get(r["id"], [])) for r in dataset.records]
    if len(records) < at_least:
        raise SystemExit(f"the simulator gave {len(records)} records, fewer than {at_least}")
    return records


def dev_set_records(at_least: int) -> tuple[list[dict[str, Any]], int]:
    """The dev set's turns as records, and how many copies of it that took."""
    turns = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for turn in turns:
        conversations[turn["session"]].append(turn)
    copies = -(-at_least // len(turns))
    rng = random.Random(SEED)
    start_ms = int(dataset_window()[0].timestamp() * 1000)
    records = [record for copy in range(copies) for session in conversations.values()
               for record in _conversation(rng, copy, session, start_ms + rng.randrange(DAYS * 86_400_000))]
    records.sort(key=lambda r: (r["timestamp"], r["id"]))
    return records, copies


def _conversation(rng: random.Random, copy: int, turns: Iterable[dict[str, Any]], at_ms: int,
                  ) -> list[dict[str, Any]]:
    """One copy of a dev-set conversation: a user turn opens a new input, the bot's and agent's answers
    to it share its inputId (as in Cognigy's records); turns a few seconds apart."""
    session_id, contact = f"session-{_uuid(rng)}", f"user-{rng.getrandbits(24):06x}"
    records = []
    input_id = _uuid(rng)
    handover = False
    for turn in sorted(turns, key=lambda t: t["turn"]):
        is_user = turn["source"] == "user"
        at_ms += rng.randint(3_000, 45_000) if is_user else rng.randint(400, 2_500)
        if is_user:
            input_id = _uuid(rng)
        handover = handover or turn["source"] == "agent"
        channel = _CHANNEL[turn["channel"]]
        endpoint_name, endpoint_token = CHANNELS[channel]
        project_id, flow, flow_parent_id = _project(turn["domain"])
        record = {
            "id": f"{at_ms // 1000:08x}{rng.getrandbits(64):016x}",
            "projectId": project_id, "projectName": f"{flow} Assistant", "inputId": input_id, "sessionId": session_id,
            "contactId": contact, "organisation": ORGANISATION, "inputText": "", "inputData": {},
            "type": "input" if is_user else "output", "source": turn["source"],
            "timestamp": datetime.fromtimestamp(at_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{at_ms % 1000:03d}Z",
            "flowName": flow, "flowParentId": flow_parent_id,
            "channel": channel, "inHandoverRequest": False, "inHandoverConversation": handover,
            "outputId": None if is_user else _uuid(rng), "inputAttachments": None, "reference": None,
            "localeReferenceId": LOCALE_REFERENCE_ID, "endpointUrlToken": endpoint_token,
            "endpointName": endpoint_name, "snapshotId": SNAPSHOT_ID, "snapshotName": SNAPSHOT_NAME,
            "rating": None, "ratingComment": None,
        }
        # Each copy has its own people: its values (and so their tokens) differ from the other copies'.
        spans = [(s["start"], s["end"], s["type"], f"{turn['text'][s['start']:s['end']]}#{copy}")
                 for s in turn["spans"]]
        records.append(_sanitized(record, turn["text"], spans))
    return records


@cache
def _project(domain: str) -> tuple[str, str, str]:
    """A dev-set domain as a Cognigy project of its own: its id, its flow's name and the flow's id."""
    flow = domain.replace("_", " ").title().replace(" ", "")
    return uuid.uuid5(uuid.NAMESPACE_URL, domain).hex[:24], flow, uuid.uuid5(uuid.NAMESPACE_DNS, flow).hex


def _sanitized(record: dict[str, Any], text: str, spans: list[tuple[int, int, str, str]]) -> dict[str, Any]:
    """The record with each span of `text` (start, end, type, value) replaced by its token, as inputText,
    and its contactId tokenized."""
    for start, end, entity_type, value in sorted(spans, reverse=True):
        text = text[:start] + _TOKENS.token(entity_type, value) + text[end:]
    return {**record, "inputText": text, "contactId": _contact_token(str(record["contactId"]))}


@cache
def _contact_token(contact: str) -> str:  # a contact has many records: its HMAC once
    return _TOKENS.token(CONTACT_ID, contact)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
