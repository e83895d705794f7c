"""The public topic `transcripts.sanitized`: what downstream teams read, in JSON, one message per record.

Its own contract, apart from the pipeline's msgpack messages (shared/messages.py), so that the pipeline can
change its internal pages without breaking a consumer. Every value is a JSON object whose `type` names it:

- `transcript_record`: one sanitized record (a conversation turn). Key: the conversation (`sessionId`), so a
  conversation's turns all land on one partition; a record without one is keyed `export_id:page_index`.
- `page_withheld`: records of a page that are not published (a dead page, or records dead-lettered as
  malformed), by count only: their content never reaches this topic.
- `export_end`: sent to every partition by each replica of the sanitizer once it has published all pages of
  the export on one `pages.verified` partition (`source_partition`). A partition has seen all of an export
  when it has `export_end` from each of `source_partitions`: the pages went before it in the same producer's
  committed transactions, so with `isolation.level=read_committed` nothing of the export comes after.

Headers on every message: `export_id`, `schema_version`, `content_type` (application/json), `message_type`
(the value's `type`) and the W3C `traceparent`. `v` in the value is the schema version: a change a consumer
could trip on (a field removed or retyped, a new required field, an enum value removed) bumps it
(tests/test_schema_contract.py refuses it otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from shared.messages import Count, ExportId, RedactionCount, page_key

PUBLIC_SCHEMA_VERSION = 1
CONTENT_TYPE = "application/json"
CONVERSATION_FIELD = "sessionId"
TIMESTAMP_FIELD = "timestamp"
# `sequence` = page_index * SEQUENCE_STRIDE + record_index: records of an export sort by it in export order.
# No page can hold as many: a page is one Kafka message (8 MiB at most) and a record takes more than 40 bytes
# (its id, sessionId and timestamp are required).
SEQUENCE_STRIDE = 1_000_000
# RFC 3339 on the wire (msgspec's JSON); the schema says so, for consumers' validators and code generators.
Instant = Annotated[datetime, msgspec.Meta(extra_json_schema={"format": "date-time"})]


class TranscriptRecord(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="transcript_record"):
    """One sanitized record of an export: a conversation turn with its PII replaced."""

    export_id: ExportId
    conversation: str | None  # the record's sessionId; None: it has none (then keyed export_id:page_index)
    page_index: Count
    record_index: Count  # the record's place in its page as the source served it
    sequence: Count  # orders the export's records (page_index * 1,000,000 + record_index); not dense
    timestamp: str | None  # the record's own `timestamp`, as the source gave it
    sanitized_at: Instant
    key_id: str  # the tokenization key: tokens made with the same key compare equal
    record: dict[str, Any]  # the Cognigy record, its PII replaced
    redactions: list[RedactionCount] = []  # what was replaced in it, by type and action (never a value)
    v: int = PUBLIC_SCHEMA_VERSION


class PageWithheld(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="page_withheld"):
    """Records of a page that are not published: all of them when `dead` (the page went to the pipeline's
    dead letters), else `withheld_records` records the pipeline could not process. Sent to every partition,
    since the conversations they belong to are not known: the export is then partial."""

    export_id: ExportId
    page_index: Count
    dead: bool
    withheld_records: Count
    v: int = PUBLIC_SCHEMA_VERSION


class ExportEnd(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="export_end"):
    """Every page of the export on `pages.verified` partition `source_partition` is published. Sent to every
    partition; a partition holding it from all `source_partitions` holds all of the export's records keyed
    to it. `total_pages` and `total_records` are the export's, as fetched: published records plus withheld
    ones, over all partitions, add up to `total_records`."""

    export_id: ExportId
    source_partition: Count
    source_partitions: Count
    total_pages: Count
    total_records: Count
    started_at: Instant
    v: int = PUBLIC_SCHEMA_VERSION


PublicMessage = TranscriptRecord | PageWithheld | ExportEnd

_encoder = msgspec.json.Encoder()


def encode_public(message: PublicMessage) -> bytes:
    return _encoder.encode(message)


def public_headers(message: PublicMessage) -> list[tuple[str, bytes]]:
    """The headers every public message carries (the trace context is added when it is sent)."""
    kind = type(message).__struct_config__.tag
    return [("export_id", message.export_id.encode()), ("schema_version", str(message.v).encode()),
            ("content_type", CONTENT_TYPE.encode()), ("message_type", str(kind).encode())]


def record_key(export_id: str, page_index: int, conversation: str | None) -> bytes:
    """A conversation's records share a key, so a partition; a record without one stays with its page."""
    return conversation.encode() if conversation else page_key(export_id, page_index)


def conversation_of(record: dict[str, Any]) -> str | None:
    value = record.get(CONVERSATION_FIELD)
    return value if isinstance(value, str) and value else None


def timestamp_of(record: dict[str, Any]) -> str | None:
    value = record.get(TIMESTAMP_FIELD)
    return value if isinstance(value, str) else None
