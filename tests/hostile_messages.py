"""Hypothesis strategies for hostile messages on the pipeline's input topics, mixed with good pages:
what tests/test_fuzz_topics.py puts on a running pipeline.

A `Case` is a recipe, not bytes: `build(tag)` makes its message with `tag` (unique per case and round) as
the export id of a good page and the ids of its records, so rounds never collide and a good page's records
can be looked up in the archive. Hostile fields are what the issue's attackers tried (export ids `..`, `.`,
`a/b`, huge strings, deep nesting, negative totals, unknown versions and tags, checksum mismatches, bad and
catastrophic PII patterns, over-size messages) and whatever hypothesis makes of the schemas (random bytes,
msgpack of the wrong shape, truncated messages, fields of the wrong type).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from hypothesis import assume
from hypothesis import strategies as st

from shared.export_requests import validate_export_request
from shared.kafka.state import ChangelogWatermark
from shared.kafka.topics import (
    ARCHIVE_SEGMENTS,
    EXPORTS,
    NOTIFIER_DELIVERIES,
    PAGES_RAW,
    PAGES_SANITIZED,
    PAGES_VERIFIED,
)
from shared.messages import (
    DeadLetter,
    ExportOptions,
    ExportRequest,
    ExportStatus,
    ExportTotal,
    FetchCheckpoint,
    PageMessage,
    PageProgress,
    PiiRule,
    RawPage,
    SanitizedMessage,
    SanitizedPage,
    SegmentMessage,
    SegmentWritten,
    TimeWindow,
    VerifiedMessage,
    VerifiedPage,
    decode,
    encode,
)
from shared.settings import Settings
from simulator.config import dataset_window
from stages.fetcher.pages import page_body
from stages.notifier.messages import DeliveryOutcome

# What must become of a case: "required" a dead letter (from the stage reading it, or a later one reading
# what it became), "forbidden" none, "allowed" either (liveness is checked for every case).
Letter = Literal["required", "allowed", "forbidden"]
Builder = Callable[[str], bytes | None]

KINDS: dict[str, Any] = {EXPORTS: ExportRequest, PAGES_RAW: PageMessage, PAGES_VERIFIED: VerifiedMessage,
                         PAGES_SANITIZED: SanitizedMessage, ARCHIVE_SEGMENTS: SegmentMessage,
                         NOTIFIER_DELIVERIES: DeliveryOutcome}
READER = {EXPORTS: "fetcher", PAGES_RAW: "verifier", PAGES_VERIFIED: "sanitizer", PAGES_SANITIZED: "archiver",
          ARCHIVE_SEGMENTS: "notifier", NOTIFIER_DELIVERIES: "notifier"}
PAGE_TOPICS = (PAGES_RAW, PAGES_VERIFIED, PAGES_SANITIZED)  # whose good pages end in the archive
GOOD_RECORDS = 2
T0 = datetime(2026, 10, 1, tzinfo=UTC)
OVERSIZE = 9_000_000  # over the 8 MiB any producer of the pipeline may send
# Nesting past what msgspec decodes (about 1,000 levels), in an array and in a JSON text field.
DEEP = 5_000
_DEEP_MARK = "\x00deep\x00"
_REDOS = r"(\w+\s?)+$"  # exponential on a long word that does not end the text
# Export ids that must never reach storage: a path escape, the archive root, a sub-folder, nothing, over
# any file name limit, a NUL.
BAD_IDS = ("..", ".", "a/b", "", "x" * 200_000, "nul\x00id")
# And those the export id pattern refuses as well, where a request enters.
BAD_REQUEST_IDS = (*BAD_IDS, "x" * 65, "../up", "é", "sp ace")


@dataclass(frozen=True)
class Case:
    topic: str  # short name
    what: str
    letter: Letter
    build: Builder
    good_records: int = 0  # records f"{tag}-{i}" of export `tag` that must be archived exactly once
    partition: int | None = 0  # None: by key
    key: bytes | None = None  # None: the tag

    def __repr__(self) -> str:  # what a failure report shows: never megabytes of value
        return f"<{self.topic} p{self.partition}: {self.what} [{self.letter}]>"


def shown(export_id: str) -> str:
    return repr(export_id) if len(export_id) <= 20 else f"{export_id[:8]!r}... ({len(export_id):,} chars)"


def started(tag: str) -> datetime:
    """A start time unique to the tag: totals pass through the page stages byte for byte, and are
    followed by their bytes."""
    return T0 + timedelta(microseconds=zlib.crc32(tag.encode()))


def records(tag: str, count: int = GOOD_RECORDS, text: str = "thanks, that is all for today") -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{i}", "sessionId": f"{tag}-s", "timestamp": "2026-10-01T00:00:00Z", "type": "input",
             "inputText": text} for i in range(count)]


def raw_page(tag: str, body: bytes | None = None, **changes: Any) -> RawPage:
    body = page_body(records(tag)) if body is None else body
    page = RawPage(export_id=tag, page_index=0, body=body, source_sha256=hashlib.sha256(body).hexdigest(),
                   fetched_at=T0, options=ExportOptions())
    return msgspec.structs.replace(page, **changes)


def verified_page(tag: str, **changes: Any) -> VerifiedPage:
    page = VerifiedPage(export_id=tag, page_index=0, records=records(tag), sha256="0" * 64, options=ExportOptions())
    return msgspec.structs.replace(page, **changes)


def sanitized_page(tag: str, key_id: str, **changes: Any) -> SanitizedPage:
    page = SanitizedPage(export_id=tag, page_index=0, records=records(tag), redactions=[], key_id=key_id,
                         options=ExportOptions())
    return msgspec.structs.replace(page, **changes)


def total(tag: str, **changes: Any) -> ExportTotal:
    return msgspec.structs.replace(
        ExportTotal(export_id=tag, total_pages=1, total_records=GOOD_RECORDS, started_at=started(tag)), **changes)


def request(tag: str, **changes: Any) -> ExportRequest:
    start, end = dataset_window()
    base = ExportRequest(export_id=tag, window=TimeWindow(start, end), requested_at=T0,
                         options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")]))
    return msgspec.structs.replace(base, **changes)


def segment(tag: str, **changes: Any) -> SegmentWritten:
    base = SegmentWritten(export_id=tag, page_index=0, object_key=None, sha256=None, bytes=0, records=0,
                          redactions=[], source_topic="fz", source_partition=0, source_offset=0, dead=True)
    return msgspec.structs.replace(base, **changes)


def outcome(tag: str, **changes: Any) -> DeliveryOutcome:
    base = DeliveryOutcome(export_id=tag, msg_id="msg_fz", url="http://127.0.0.1:9/hook", attempt=1,
                           state="delivered", status=204, detail="", next_attempt_at=T0)
    return msgspec.structs.replace(base, **changes)


def with_rules(*rules: PiiRule) -> ExportOptions:
    return ExportOptions(pii_rules=list(rules))


def deep_msgpack(message: msgspec.Struct) -> bytes:
    """`message` encoded with the one string _DEEP_MARK in it replaced by arrays nested DEEP levels deep
    (msgspec cannot encode that deep, so it is spliced into the bytes)."""
    data, mark = encode(message), msgspec.msgpack.encode(_DEEP_MARK)
    assert data.count(mark) == 1
    return data.replace(mark, b"\x91" * DEEP + b"\xc0")


def deep_json(items: list[dict[str, Any]]) -> bytes:
    """A page body with the one string _DEEP_MARK in it replaced by JSON arrays nested DEEP levels deep."""
    data, mark = page_body(items), msgspec.json.encode(_DEEP_MARK)
    assert data.count(mark) == 1
    return data.replace(mark, b"[" * DEEP + b"]" * DEEP)


def odd_record(tag: str, **fields: Any) -> dict[str, Any]:
    return {**records(tag, 1)[0], "id": f"{tag}-odd", **fields}


def accepted(topic: str, value: bytes | None) -> bool:
    """Whether the stage reading `topic` takes the value as a valid message (an export request: and its
    checks pass); a generated case that is accepted is no hostile case."""
    if value is None:
        return False
    try:
        message = decode(value, KINDS[topic])
        if topic == EXPORTS:
            validate_export_request(message, Settings())
    except Exception:  # refused (DecodeError, ValidationFailed...), or a check crashed on it: hostile indeed
        return False
    return True


# --- the named cases, on every topic where they apply ---------------------------------------------------------


def _with_id(topic: str, key_id: str, bad: str) -> Builder:
    make: dict[str, Callable[[str], msgspec.Struct]] = {
        EXPORTS: lambda tag: request(tag, export_id=bad),
        PAGES_RAW: lambda tag: raw_page(tag, export_id=bad),
        PAGES_VERIFIED: lambda tag: verified_page(tag, export_id=bad),
        PAGES_SANITIZED: lambda tag: sanitized_page(tag, key_id, export_id=bad),
        # The notifier writes a manifest for a completed export: a total is what takes an id to storage.
        ARCHIVE_SEGMENTS: lambda tag: total(tag, export_id=bad, total_pages=0, total_records=0),
        NOTIFIER_DELIVERIES: lambda tag: outcome(tag, export_id=bad),
    }
    return lambda tag: encode(make[topic](tag))


def _bad_ids(topic: str, key_id: str) -> list[Case]:
    ids = BAD_REQUEST_IDS if topic == EXPORTS else BAD_IDS
    return [Case(topic, f"export id {shown(bad)}", "required", _with_id(topic, key_id, bad)) for bad in ids]


def _requesting(**changes: Any) -> Builder:
    return lambda tag: encode(request(tag, **changes))


def _exports_cases() -> list[Case]:
    start, end = dataset_window()
    soon = datetime.now(UTC) + timedelta(days=30)

    def rule(**fields: Any) -> Builder:
        return _requesting(options=with_rules(PiiRule(**{"entity_type": "ALL", **fields})))

    bad: list[tuple[str, Builder]] = [
        ("no PII rules", _requesting(options=ExportOptions())),
        ("invalid pattern", rule(entity_type="X", pattern="(")),
        ("unknown action", rule(action="x")),
        ("negative min_length", rule(min_length=-1)),
        ("window backwards", _requesting(window=TimeWindow(end, start))),
        ("window of 400 days", _requesting(window=TimeWindow(start, start + timedelta(days=400)))),
        ("window without a time zone", _requesting(window=TimeWindow(start.replace(tzinfo=None),
                                                                     end.replace(tzinfo=None)))),
        ("window in the future", _requesting(window=TimeWindow(soon, soon + timedelta(days=1)))),
        ("501 session ids", _requesting(session_ids=[f"s{i}" for i in range(501)])),
        ("REST session id '..'", _requesting(source="rest", window=None, session_ids=[".."])),
        ("REST session id '.'", _requesting(source="rest", window=None, session_ids=["."])),
        ("max_storage_mb 0", _requesting(options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")],
                                                               max_storage_mb=0))),
        ("negative retention_days", _requesting(options=ExportOptions(pii_rules=[PiiRule(entity_type="ALL")],
                                                                      retention_days=-1))),
        ("an unknown source", _requesting(source="ftp")),
    ]
    return [Case(EXPORTS, what, "required", build) for what, build in bad]


def _raw_cases() -> list[Case]:
    def mismatch(tag: str) -> bytes:
        return encode(raw_page(tag, source_sha256="0" * 64))

    def body(data: bytes) -> Builder:
        return lambda tag: encode(raw_page(tag, body=data))

    required: list[tuple[str, Builder]] = [
        ("checksum mismatch", mismatch),
        ("empty body", body(b"")),
        ("body not JSON", body(b"\xff\xfe not json")),
        ("items not a list", body(b'{"items": 3}')),
        ("over-size page (9 MB)", lambda tag: encode(raw_page(tag, body=page_body(records(tag, 1, "a" * OVERSIZE))))),
        ("invalid PII pattern in options", lambda tag: encode(raw_page(
            tag, options=with_rules(PiiRule(entity_type="X", pattern="("))))),
        ("negative total", lambda tag: encode(total(tag, total_pages=-7, total_records=-1))),
        ("unknown output format", lambda tag: encode(raw_page(tag, options=ExportOptions(output_format="xml")))),  # type: ignore[arg-type]
    ]
    cases = [Case(PAGES_RAW, what, "required", build) for what, build in required]
    # A malformed record goes to the DLQ alone; the rest of its page goes on.
    cases += [
        Case(PAGES_RAW, "a record without an id", "required", lambda tag: encode(raw_page(
            tag, body=page_body([*records(tag), {"sessionId": "s", "timestamp": "t"}]))), GOOD_RECORDS),
        Case(PAGES_RAW, f"a record nested {DEEP:,} deep", "required", lambda tag: encode(raw_page(
            tag, body=deep_json([*records(tag), odd_record(tag, inputData={"x": _DEEP_MARK})]))), GOOD_RECORDS),
        # inputData may arrive as a JSON text, which the sanitizer parses: it must not lose the page.
        Case(PAGES_RAW, f"inputData a JSON text nested {DEEP:,} deep", "allowed", lambda tag: encode(raw_page(
            tag, body=page_body([*records(tag), odd_record(tag, inputData="[" * DEEP + "]" * DEEP)]))), GOOD_RECORDS),
        Case(PAGES_RAW, "context that is not a page", "forbidden",
             lambda tag: encode(raw_page(tag, context=b"\x00garbage")), GOOD_RECORDS),
        Case(PAGES_RAW, "page index 2**63-1", "forbidden",
             lambda tag: encode(raw_page(tag, page_index=2**63 - 1)), GOOD_RECORDS),
        Case(PAGES_RAW, "negative page index", "allowed", lambda tag: encode(raw_page(tag, page_index=-1))),
    ]
    return cases


def _verified_cases() -> list[Case]:
    def rules(*given: PiiRule) -> Builder:
        return lambda tag: encode(verified_page(tag, options=with_rules(*given)))

    required: list[tuple[str, Builder]] = [
        ("invalid PII pattern", rules(PiiRule(entity_type="X", pattern="("))),
        ("catastrophic PII pattern", lambda tag: encode(verified_page(
            tag, records=records(tag, 1, "a" * 40 + "!"),
            options=with_rules(PiiRule(entity_type="ALL"), PiiRule(entity_type="CUSTOM_ID", pattern=_REDOS))))),
        ("empty mask_char", rules(PiiRule(entity_type="ALL", action="mask", mask_char=""))),
        ("custom type without a pattern", rules(PiiRule(entity_type="MY_TYPE"))),
        ("keep_last on tokenize", rules(PiiRule(entity_type="ALL", keep_last=4))),
        ("records not objects", lambda tag: encode(verified_page(tag, records=[1, "two"]))),
        (f"a record nested {DEEP:,} deep", lambda tag: deep_msgpack(verified_page(
            tag, records=[odd_record(tag, inputData={"x": _DEEP_MARK})]))),
        ("negative total", lambda tag: encode(total(tag, total_pages=-1))),
    ]
    return [Case(PAGES_VERIFIED, what, "required", build) for what, build in required]


def _sanitized_cases(key_id: str) -> list[Case]:
    required: list[tuple[str, Builder]] = [
        ("unknown output format", lambda tag: encode(sanitized_page(
            tag, key_id, options=ExportOptions(output_format="xml")))),  # type: ignore[arg-type]
        (f"a record nested {DEEP:,} deep", lambda tag: deep_msgpack(sanitized_page(
            tag, key_id, records=[odd_record(tag, inputData={"x": _DEEP_MARK})]))),
        ("negative total", lambda tag: encode(total(tag, total_records=-3))),
    ]
    cases = [Case(PAGES_SANITIZED, what, "required", build) for what, build in required]
    # Big, but within every limit once compressed: archived like any page.
    cases.append(Case(PAGES_SANITIZED, "a 3 MB page", "forbidden", lambda tag: encode(sanitized_page(
        tag, key_id, records=records(tag, text="b" * 1_500_000))), GOOD_RECORDS))
    return cases


def _segments_cases() -> list[Case]:
    def totalling(**changes: Any) -> Builder:
        return lambda tag: encode(total(tag, **changes))

    required = [
        ("total of -7 pages", totalling(total_pages=-7)),
        ("total of 0 pages for an export nobody fetched", totalling(total_pages=0, total_records=0)),
        ("total of 3 pages for an export nobody fetched", totalling(total_pages=3)),
        ("a delivery outcome, whose place is notifier.deliveries", lambda tag: encode(outcome(tag))),
    ]
    cases = [Case(ARCHIVE_SEGMENTS, what, "required", build) for what, build in required]
    cases += [
        Case(ARCHIVE_SEGMENTS, "a dead segment of export '..'", "allowed",
             lambda tag: encode(segment(tag, export_id=".."))),
    ]
    return cases


def _deliveries_cases() -> list[Case]:
    def outcoming(**changes: Any) -> Builder:
        return lambda tag: encode(outcome(tag, **changes))

    required: list[tuple[str, Builder]] = [
        ("a segment event, whose place is archive.segments", lambda tag: encode(segment(tag))),
        ("an unknown delivery state", outcoming(state="lost")),
    ]
    cases = [Case(NOTIFIER_DELIVERIES, what, "required", build) for what, build in required]
    # Well-formed, about no delivery the notifier has: nothing to apply, and nothing wrong either.
    cases += [Case(NOTIFIER_DELIVERIES, what, "forbidden", build) for what, build in [
        ("an outcome for an unknown export", outcoming()),
        ("attempt 2**63-1, abandoned, disabling its endpoint", outcoming(attempt=2**63 - 1, state="abandoned",
                                                                        disable_endpoint=True)),
        ("a negative attempt and status", outcoming(attempt=-5, status=-1, state="pending")),
    ]]
    return cases


# --- what hypothesis makes of the schemas -------------------------------------------------------------------


def _valid_message(topic: str, tag: str, key_id: str) -> msgspec.Struct:
    if topic == EXPORTS:
        return request(tag)
    if topic == PAGES_RAW:
        return raw_page(tag)
    if topic == PAGES_VERIFIED:
        return verified_page(tag)
    if topic == PAGES_SANITIZED:
        return sanitized_page(tag, key_id)
    if topic == NOTIFIER_DELIVERIES:
        return outcome(tag)
    return segment(tag)


_FOREIGN: tuple[Callable[[str, str], msgspec.Struct], ...] = (
    lambda tag, key_id: request(tag),
    lambda tag, key_id: raw_page(tag),
    lambda tag, key_id: verified_page(tag),
    lambda tag, key_id: sanitized_page(tag, key_id),
    lambda tag, key_id: segment(tag),
    lambda tag, key_id: DeadLetter(stage="fz", reason="r", error_type="E", source_topic="t", source_partition=0,
                                   source_offset=0, key=None, value=None),
    lambda tag, key_id: ExportStatus(export_id=tag, stage="fz", state="completed", updated_at=T0),
    lambda tag, key_id: PageProgress(export_id=tag, stage="fz", page_index=0, records=1, at=T0),
    lambda tag, key_id: FetchCheckpoint(export_id=tag, job_id="j", next_page_index=1, resume_token=None, records=0,
                                        started_at=T0),
    lambda tag, key_id: ChangelogWatermark(next_offset=0),
    lambda tag, key_id: outcome(tag),
)

_builtins = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def garbage(draw: st.DrawFn, topic: str, key_id: str) -> Case:
    """One hostile message hypothesis makes for `topic`. The stage must refuse it; the odd one that turns out
    valid (a field swapped for a value of its type) is only allowed to pass, and on `exports`, where a valid
    request would start a real export, it is not drawn at all."""
    def valid(tag: str) -> msgspec.Struct:
        return _valid_message(topic, tag, key_id)

    fields: dict[str, Any] = msgspec.msgpack.decode(encode(valid("fz")))
    foreign = [make for make in _FOREIGN if not accepted(topic, encode(make("fz", key_id)))]
    kind = draw(st.sampled_from(["bytes", "msgpack", "truncated", "version", "tag", "foreign", "field", "deep"]))
    build: Builder
    if kind == "bytes":
        data = draw(st.binary(max_size=300))
        what, build = f"{len(data)} random bytes", lambda tag: data
    elif kind == "msgpack":
        shape = draw(_builtins)
        what, build = f"msgpack of the wrong shape {shape!r:.60}", lambda tag: msgspec.msgpack.encode(shape)
    elif kind == "truncated":
        cut = draw(st.integers(0, len(encode(valid("fz"))) - 1))
        what, build = f"a message cut at byte {cut}", lambda tag: encode(valid(tag))[:cut]
    elif kind == "version":
        version = draw(st.integers(-(2**63), 2**63 - 1).filter(lambda v: v != 1))
        what, build = f"schema version {version}", lambda tag: encode(msgspec.structs.replace(valid(tag), v=version))
    elif kind == "tag":
        name = draw(st.text(max_size=20).filter(lambda t: t != fields["type"]))
        what, build = f"unknown tag {name!r}", lambda tag: msgspec.msgpack.encode({**fields, "type": name})
    elif kind == "foreign":
        make = draw(st.sampled_from(foreign))
        what = f"a {type(make('fz', key_id)).__name__}, another topic's message"
        build = lambda tag: encode(make(tag, key_id))  # noqa: E731
    elif kind == "field":
        name, swapped = draw(st.sampled_from(sorted(fields))), draw(_builtins)
        what, build = f"field {name} = {swapped!r:.40}", lambda tag: msgspec.msgpack.encode({**fields, name: swapped})
    else:
        what, build = f"msgpack arrays nested {DEEP:,} deep", lambda tag: b"\x91" * DEEP + b"\xc0"
    if not accepted(topic, build("fz")):
        return Case(topic, what, "required", build)
    assume(topic != EXPORTS)
    return Case(topic, f"{what} (valid)", "allowed", build)


def good_page(topic: str, key_id: str, partition: int | None = 0) -> Case:
    makers: dict[str, Builder] = {
        PAGES_RAW: lambda tag: encode(raw_page(tag)),
        PAGES_VERIFIED: lambda tag: encode(verified_page(tag)),
        PAGES_SANITIZED: lambda tag: encode(sanitized_page(tag, key_id)),
    }
    return Case(topic, "a good page", "forbidden", makers[topic], GOOD_RECORDS, partition)


def oversize_zeros(topic: str) -> Case:
    # Compresses to almost nothing, so the broker takes it; a dead letter copying it would not fit.
    return Case(topic, f"{OVERSIZE:,} zero bytes", "required", lambda tag: bytes(OVERSIZE))


def tombstone(topic: str) -> Case:
    return Case(topic, "a null value (a tombstone)", "required", lambda tag: None)


def named_cases(key_id: str) -> list[Case]:
    topics = tuple(KINDS)
    cases = [c for topic in topics for c in _bad_ids(topic, key_id)]
    cases += [make(topic) for topic in topics for make in (oversize_zeros, tombstone)]
    return [*cases, *_exports_cases(), *_raw_cases(), *_verified_cases(), *_sanitized_cases(key_id),
            *_segments_cases(), *_deliveries_cases()]


@st.composite
def hostile_set(draw: st.DrawFn, partitions: int, key_id: str) -> list[Case]:
    """Every named case and a few generated ones per topic, with good pages among them, in a drawn order on
    drawn partitions; then a good page last on every partition of every page topic, which arrives only if
    the stage got past everything before it."""
    topics = tuple(KINDS)
    cases = named_cases(key_id)
    for topic in topics:
        cases += draw(st.lists(garbage(topic, key_id), min_size=2, max_size=6))
    for topic in PAGE_TOPICS:
        cases += [good_page(topic, key_id)] * draw(st.integers(1, 3))
    spread = st.integers(0, partitions - 1)
    placed = [c if c.topic == EXPORTS else replace(c, partition=draw(spread)) for c in cases]
    ordered = draw(st.permutations(placed))
    last = [good_page(topic, key_id, p) for topic in PAGE_TOPICS for p in range(partitions)]
    return [*ordered, *last]
