"""Versioned message schemas, one Struct per kind of Kafka message, encoded as MessagePack.

MessagePack rather than JSON: raw page bodies travel as bytes without base64, and it is smaller and
faster to encode (see bench/codec_bench.py). Every message carries `v`, its schema version; a reader
rejects versions it does not know instead of guessing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

SCHEMA_VERSION = 1

Count = Annotated[int, msgspec.Meta(ge=0)]
PiiAction = Literal["mask", "tokenize", "redact", "encrypt"]
OutputFormat = Literal["jsonl", "csv", "parquet"]
# An export id names the export's folder in the archive and is part of Kafka keys: 1-64 letters, digits, '.',
# '_' or '-', starting with a letter or digit, so never '.', '..' or a hidden name. Every message's export id
# is held to it when decoded: a message with another is refused (dead-lettered) where it enters a stage.
EXPORT_ID_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z"
ExportId = Annotated[str, msgspec.Meta(pattern=EXPORT_ID_PATTERN)]


class PiiRule(msgspec.Struct, frozen=True, kw_only=True):
    """What to do with one entity type (see stages/sanitizer/policy.py for the full meaning)."""

    entity_type: str
    action: PiiAction = "tokenize"
    pattern: str | None = None
    min_length: int = 0
    # mask: the character that replaces each masked one, and how many trailing letters/digits stay visible.
    mask_char: str = "*"
    keep_last: int = 0
    # spaCy NER labels (e.g. ["GPE", "LOC"]) whose entities are of this rule's type.
    ner_labels: tuple[str, ...] = ()


class TimeWindow(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime


SourceName = Literal["export_job", "odata", "rest"]


class SessionRange(msgspec.Struct, frozen=True):
    """Session ids from `first` to `last`, both included, in the source's string order."""

    first: str
    last: str


class ExportOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How an export's pages are to be treated downstream; every page message carries them, so no stage
    needs to look the export up.

    `max_storage_mb` caps what the archive holds for the export: its segments as stored (compressed, and
    sealed when encrypted), in MB of 10^6 bytes. The notifier counts it and fails an export that passes it;
    the fetcher does not count raw bytes against it (they are no bound on what the archive holds)."""

    pii_rules: list[PiiRule] = []
    output_format: OutputFormat = "jsonl"
    max_storage_mb: int | None = None
    retention_days: int | None = None


class Deduplication(msgspec.Struct, frozen=True, kw_only=True):
    """A scheduled window's request: its window starts `overlap` before the window proper, re-reading what earlier
    windows of the schedule `scope` read, to catch records Cognigy made visible late. The fetcher passes on only
    records whose ids it has not fetched for `scope` before, and remembers, for the windows after, the ids of
    records with a timestamp at or after `remember_from` (where the next window's read starts)."""

    scope: str
    remember_from: datetime


class ExportRequest(msgspec.Struct, frozen=True, kw_only=True, tag="export_request"):
    """What a user asks to export. Topic `exports`, key export_id."""

    export_id: ExportId
    window: TimeWindow | None = None
    session_ids: list[str] = []
    options: ExportOptions = ExportOptions()
    requested_at: datetime | None = None
    source: SourceName = "export_job"
    session_range: SessionRange | None = None
    deduplication: Deduplication | None = None  # set by the scheduler (stages/scheduler)
    v: int = SCHEMA_VERSION


class RawPage(msgspec.Struct, frozen=True, kw_only=True, tag="raw_page"):
    """One page exactly as the source sent it. Topic `pages.raw`, key `export_id:page_index`."""

    export_id: ExportId
    page_index: int
    body: bytes
    source_sha256: str
    fetched_at: datetime
    options: ExportOptions
    # The last records of the previous page of each session this page goes on with, as a page body: the
    # sanitizer reads them for conversation context only (a question asked just before the page break).
    context: bytes = b""
    # Why the fetcher could not publish the body (then b"", with no context), e.g. a page over the message
    # limit: the verifier dead-letters the page with this reason and it travels on as dead.
    refused: str = ""
    # Ids of records in the body an earlier window of the same schedule already fetched (ExportRequest.
    # deduplication): the body stays as the source sent it, so its checksum still proves it; the verifier
    # drops these records.
    duplicate_ids: list[str] = []
    v: int = SCHEMA_VERSION


class ExportTotal(msgspec.Struct, frozen=True, kw_only=True, tag="export_total"):
    """The fetcher fetched the last page: the export has `total_pages` pages. Travels the whole pipeline,
    so the notifier can count archived pages against it."""

    export_id: ExportId
    total_pages: Count
    total_records: Count
    started_at: datetime
    v: int = SCHEMA_VERSION


class FetchPaused(msgspec.Struct, frozen=True, kw_only=True, tag="fetch_paused"):
    """The fetcher stopped an export before its last page (it failed; a resubmission resumes it). Sent to every
    partition of `pages.raw` after the pages fetched so far and passed on by the page stages, so that the archiver
    writes the pages of the export it holds for Parquet files instead of waiting for a total that may not come."""

    export_id: ExportId
    attempt: str  # as in FetchFailed: the request's place on `exports` (partition:offset)
    v: int = SCHEMA_VERSION


class VerifiedPage(msgspec.Struct, frozen=True, kw_only=True, tag="verified_page"):
    """A page whose checksum was proven, split into records. `dead` pages carry no records: they went to
    the DLQ, and travel on only so that completion can be counted (the export becomes partial)."""

    export_id: ExportId
    page_index: int
    records: list[dict[str, Any]]
    sha256: str
    options: ExportOptions
    rejected_records: int = 0
    dead: bool = False
    context: list[dict[str, Any]] = []  # RawPage.context as records: read for context, never passed on
    v: int = SCHEMA_VERSION


class RedactionCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many values of a type got an action; `rule` is the index of the governing rule in the export's
    pii_rules (None: the default rules, or the contactId, which is always tokenized). Never a value."""

    entity_type: str
    action: PiiAction
    count: int
    rule: int | None = None


class SanitizedPage(msgspec.Struct, frozen=True, kw_only=True, tag="sanitized_page"):
    """Records with PII replaced. Topic `pages.sanitized` (internal, for the archiver); the public topic
    `transcripts.sanitized` has a JSON message per record instead (shared/public_topic.py)."""

    export_id: ExportId
    page_index: int
    records: list[dict[str, Any]]
    redactions: list[RedactionCount]  # the page's totals
    key_id: str
    options: ExportOptions
    key_check: str = ""  # the tokenization key check value (shared/archive/key_check.py): a wrong key shows, not hides
    rejected_records: int = 0
    dead: bool = False
    record_redactions: list[list[RedactionCount]] = []  # per record, in the order of `records`
    v: int = SCHEMA_VERSION


class SegmentWritten(msgspec.Struct, frozen=True, kw_only=True, tag="segment_written"):
    """One durable archive object (or, for a dead page, none). Topic `archive.segments`, key export_id."""

    export_id: ExportId
    page_index: int
    object_key: str | None
    sha256: str | None
    bytes: int
    records: int
    redactions: list[RedactionCount]
    source_topic: str
    source_partition: int
    source_offset: int
    rejected_records: int = 0
    dead: bool = False
    uncompressed_bytes: int = 0
    options: ExportOptions = ExportOptions()
    v: int = SCHEMA_VERSION


ExportStage = Literal["requested", "fetching", "fetched", "completed", "partial", "failed"]


class ExportStatus(msgspec.Struct, frozen=True, kw_only=True, tag="export_status"):
    """Latest state of an export as one stage sees it. Topic `exports.status` (compacted),
    key `export_id:stage`, so each stage's latest word per export survives compaction."""

    export_id: ExportId
    stage: str
    state: ExportStage
    pages: int = 0
    records: int = 0
    total_pages: int | None = None
    detail: str = ""
    updated_at: datetime
    # The fetcher's statuses: the `requested_at` of the request they answer, so whoever resubmits an export
    # (the scheduler) tells the answer to its resubmission from the one to the attempt before.
    requested_at: datetime | None = None
    v: int = SCHEMA_VERSION


class PageProgress(msgspec.Struct, frozen=True, kw_only=True, tag="page_progress"):
    """A stage finished a page (in the same transaction as its output). Topic `exports.progress`, key
    export_id, so one partition holds an export's whole history: `export status --follow` reads it."""

    export_id: ExportId
    stage: str
    page_index: int
    records: int | None
    dead: bool = False
    at: datetime
    v: int = SCHEMA_VERSION


class FetchCheckpoint(msgspec.Struct, frozen=True, kw_only=True, tag="fetch_checkpoint"):
    """Where the fetcher resumes an export. Topic `fetch.checkpoints` (compacted), key export_id."""

    export_id: ExportId
    job_id: str
    next_page_index: int
    resume_token: str | None
    records: int
    started_at: datetime
    done: bool = False
    source: SourceName = "export_job"
    bytes: int = 0
    last_sha256: str | None = None
    mismatched_pages: list[int] = []  # passed on with the source's checksum, for the verifier to dead-letter
    # The fingerprint of the request the export was started with (shared/export_requests.py): a resubmission
    # resumes only if it asks for exactly the same. None: written before fingerprints were kept.
    request_sha256: str | None = None
    duplicates: Count = 0  # records skipped as fetched by an earlier window of the schedule (not in `records`)
    v: int = SCHEMA_VERSION


class FetchedIds(msgspec.Struct, frozen=True, kw_only=True, tag="fetched_ids"):
    """Ids of records a scheduled export's page passed on that the schedule's next windows re-read (timestamps at
    or after the request's `remember_from`). Topic `fetch.checkpoints`, key `ids:<export_id>:<page_index>`,
    in the page's transaction; tombstoned once no later window of `scope` reads back as far as `newest`."""

    scope: str
    export_id: ExportId
    page_index: Count
    ids: list[str]
    newest: datetime  # the latest timestamp among them
    v: int = SCHEMA_VERSION


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with an input: where (a field, or a path such as `$.items[3].id`) and what."""

    field: str
    problem: str


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True, tag="dead_letter"):
    """Input a stage could not process, with the reason and where it came from. Topic `dlq`.
    It may hold raw (unsanitized) bytes: the DLQ is classed with the raw topics.

    It references its input rather than copying it (shared/kafka/dead_letters.py): `value` is the input
    message only when that is small, or the malformed record it is about (its first bytes, `truncated` when
    cut); `size` and `sha256` always describe the whole of it, so a letter stays small whatever it is about."""

    stage: str
    reason: str
    error_type: str
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value: bytes | None
    export_id: ExportId | None = None
    trace_id: str | None = None
    problems: list[Problem] = []
    size: int = 0
    sha256: str = ""
    truncated: bool = False
    record_index: int | None = None  # the malformed record's position in its page
    v: int = SCHEMA_VERSION


class FetchFailed(msgspec.Struct, frozen=True, kw_only=True, tag="fetch_failed"):
    """The fetcher gave up on an export. Topic `archive.segments` (the notifier's input), key export_id, in the
    transaction that marks the export failed on `exports.status` and commits its request: the notifier
    announces it once. `attempt` is that request's place on `exports` (partition:offset), so each failed
    attempt of a resubmitted export is announced once, and no attempt twice."""

    export_id: ExportId
    attempt: str
    error: str  # the error's code (shared/errors.py)
    reason: str
    failed_at: datetime
    v: int = SCHEMA_VERSION


ScheduleName = Annotated[str, msgspec.Meta(pattern=r"\A[a-z0-9][a-z0-9-]{0,23}\Z")]


class ScheduledWindow(msgspec.Struct, frozen=True, kw_only=True):
    """One window of a schedule, submitted as export `export_id`: records from `start` (inclusive) to `end`
    (exclusive) are its own; its request reads from `read_from` (`start` less the overlap)."""

    export_id: ExportId
    start: datetime
    end: datetime
    read_from: datetime
    remember_from: datetime  # its request's Deduplication.remember_from: where the next window may read from
    submitted_at: datetime  # the request's requested_at: the fetcher's statuses name it
    attempts: Count = 1
    archived: str = ""  # the notifier's word once it has one: completed, partial or failed


class ScheduleState(msgspec.Struct, frozen=True, kw_only=True, tag="schedule_state"):
    """A schedule: consecutive windows from `since` (to `until`; None: for ever), each submitted once the one
    before is fetched. Topic `scheduler.state` (compacted), key `name`, written in the transaction that submits
    a window, so a restarted scheduler neither skips nor repeats one."""

    name: ScheduleName
    since: datetime
    until: datetime | None = None
    window_seconds: float
    overlap_seconds: float
    source: SourceName = "export_job"
    options: ExportOptions
    watermark: datetime  # every window ending at or before it is fetched; the next starts here
    # What the fetcher remembers ids from (the last fetched window's remember_from): no window reads earlier, so
    # a longer overlap set later cannot re-read records it would not recognize.
    remembered_from: datetime | None = None
    current: ScheduledWindow | None = None  # submitted, not yet fetched
    unarchived: list[ScheduledWindow] = []  # fetched, not yet completed by the notifier (or failed there)
    failures: Count = 0  # of `current`, in a row
    retry_at: datetime | None = None  # `current` failed: resubmitted then
    last_error: str = ""
    updated_at: datetime
    v: int = SCHEMA_VERSION


class ScheduleRequest(msgspec.Struct, frozen=True, kw_only=True, tag="schedule_request"):
    """Asks the scheduler for a bounded schedule (`export backfill`). Topic `schedules`, key `name`."""

    name: ScheduleName
    since: datetime
    until: datetime
    window_seconds: float
    source: SourceName = "export_job"
    options: ExportOptions
    requested_at: datetime
    v: int = SCHEMA_VERSION


CheckpointEntry = FetchCheckpoint | FetchedIds  # what `fetch.checkpoints` holds
PageMessage = RawPage | ExportTotal | FetchPaused
VerifiedMessage = VerifiedPage | ExportTotal | FetchPaused
SanitizedMessage = SanitizedPage | ExportTotal | FetchPaused
SegmentMessage = SegmentWritten | ExportTotal | FetchFailed

_encoder = msgspec.msgpack.Encoder()


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes | None, kind: Any) -> Any:
    """Decode `data` as `kind` (a Struct or a union of them; annotate the result) and check the schema
    version. Raises msgspec.ValidationError / DecodeError on bad input."""
    if data is None:  # a tombstone: anyone may write one to any topic, and no message of ours is one
        raise msgspec.DecodeError("no value (a tombstone)")
    try:
        message = msgspec.msgpack.decode(data, type=kind)
    except RecursionError:  # msgspec recurses once per level of nesting
        raise msgspec.DecodeError("nests too deep to decode") from None
    version = getattr(message, "v", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise msgspec.ValidationError(f"unsupported schema version {version} (this build reads {SCHEMA_VERSION})")
    return message


def page_key(export_id: str, page_index: int) -> bytes:
    return f"{export_id}:{page_index:08d}".encode()
