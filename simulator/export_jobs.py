"""Export jobs: the request body, its server-side rules, the selected records and their pages.

A job's pages are encoded once, when it is created, so every fetch of a page (first try, retry or
resume) returns the same bytes and the same checksum.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

MAX_WINDOW = timedelta(days=365)
MAX_SESSION_IDS = 500
MEBIBYTE = 1024 * 1024

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Window(msgspec.Struct, frozen=True):
    start: AwareDatetime
    end: AwareDatetime


class SessionRange(msgspec.Struct, frozen=True):
    first: str
    last: str


class JobRequest(msgspec.Struct, frozen=True, kw_only=True):
    window: Window | None = None
    session_ids: list[str] = []
    session_range: SessionRange | None = None
    output_format: Literal["jsonl", "csv"] = "jsonl"
    pii_rules: list[dict[str, Any]] = []  # accepted for compatibility; the archiver does its own masking
    max_storage_mb: Annotated[int, msgspec.Meta(ge=0)] | None = None


def rule_violations(request: JobRequest) -> list[str]:
    """The server-side limits a well-formed request can still break (none if it is acceptable)."""
    violations = []
    if request.window is not None:
        span = request.window.end - request.window.start
        if span <= timedelta(0):
            violations.append("window.start must be before window.end")
        elif span > MAX_WINDOW:
            violations.append(f"window spans {span.total_seconds() / 86400:.1f} days; the limit is 365")
    if request.session_ids and request.session_range is not None:
        violations.append("give session_ids or session_range, not both")
    if len(request.session_ids) > MAX_SESSION_IDS:
        violations.append(f"session_ids lists {len(request.session_ids)} ids; the limit is {MAX_SESSION_IDS}")
    return violations


def select_records(
    records: list[dict[str, Any]], timestamps: list[datetime], request: JobRequest
) -> list[dict[str, Any]]:
    """Records in [start, end), in one of the sessions if ids are given, in the session-id range if one is
    given; dataset order."""
    sessions = set(request.session_ids)
    window, span = request.window, request.session_range
    return [
        record
        for record, at in zip(records, timestamps, strict=True)
        if (window is None or window.start <= at < window.end)
        and (not sessions or record["sessionId"] in sessions)
        and (span is None or span.first <= record["sessionId"] <= span.last)
    ]


def encode_pages(selection: list[dict[str, Any]], page_size: int) -> list[bytes]:
    """`{"items": [...]}` bodies of `page_size` records; an empty selection still has one (empty) page."""
    chunks = [selection[i : i + page_size] for i in range(0, len(selection), page_size)] or [[]]
    return [msgspec.json.encode({"items": chunk}) for chunk in chunks]


def encode_transcripts(selection: list[dict[str, Any]]) -> dict[str, bytes]:
    """Each selected session's records as one `{"items": [...]}` body."""
    sessions: dict[str, list[dict[str, Any]]] = {}
    for record in selection:
        sessions.setdefault(record["sessionId"], []).append(record)
    return {session: msgspec.json.encode({"items": records}) for session, records in sessions.items()}


@dataclass
class ExportJob:
    job_id: str
    pages: list[bytes]
    total_records: int
    page_tokens: list[str]  # page_tokens[i] names page i
    transcripts: dict[str, bytes] = field(default_factory=dict)  # session id -> its records in the job
    polls: int = 0
    failure: str = ""  # Faults.job_fails_with when it was created: a failed job stays failed
    _index_of: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, selection: list[dict[str, Any]], page_size: int, token_key: bytes) -> ExportJob:
        job_id = str(uuid.uuid4())
        pages = encode_pages(selection, page_size)
        tokens = [_page_token(token_key, job_id, index) for index in range(len(pages))]
        index_of = {token: index for index, token in enumerate(tokens)}
        return cls(job_id, pages, len(selection), tokens, encode_transcripts(selection), _index_of=index_of)

    def page_index(self, token: str) -> int | None:
        return self._index_of.get(token)


def _page_token(key: bytes, job_id: str, index: int) -> str:
    """Opaque to clients, unguessable, and bound to one job: a token of another job is refused."""
    digest = hmac.new(key, f"{job_id}:{index}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
