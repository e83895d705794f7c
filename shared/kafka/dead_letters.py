"""Dead letters that reference their input instead of copying it, so each stays small whatever it is about.

A letter names its input by topic, partition and offset, with the size and SHA-256 of what it is about. It
carries the input message itself only up to VALUE_BYTES (the topic keeps the rest for its retention); a
malformed record's letter carries that record's own bytes, cut at VALUE_BYTES (`truncated`). Key, reason and
problems are cut too, so a letter stays far below any message limit (clients.MIN_MESSAGE_BYTES).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec
from aiokafka import ConsumerRecord

from shared.errors import ArchiverError
from shared.messages import DeadLetter, Problem

VALUE_BYTES = 64 * 1024
KEY_BYTES = 1024
REASON_CHARS = 2000
PROBLEMS = 20
PROBLEM_CHARS = 500


def letter(stage: str, record: ConsumerRecord[bytes, bytes], reason: str, error_type: str, *,
           export_id: str | None, trace_id: str | None, problems: Sequence[Problem] = (),
           content: bytes | None = None, record_index: int | None = None) -> DeadLetter:
    """The letter for `record`; `content` is the part of it the letter is about (a malformed record), or
    None for the whole input message."""
    whole = record.value or b""
    about = whole if content is None else content
    if content is None:
        value, truncated = (whole, False) if len(whole) <= VALUE_BYTES else (None, False)
    else:
        value, truncated = content[:VALUE_BYTES], len(content) > VALUE_BYTES
    key = record.key if record.key is None else record.key[:KEY_BYTES]
    return DeadLetter(
        stage=stage, reason=_cut(reason, REASON_CHARS), error_type=_cut(error_type, 100),
        source_topic=record.topic, source_partition=record.partition, source_offset=record.offset,
        key=key, value=value, export_id=export_id, trace_id=trace_id,
        problems=[Problem(_cut(p.field, PROBLEM_CHARS), _cut(p.problem, PROBLEM_CHARS)) for p in problems[:PROBLEMS]],
        size=len(about), sha256=hashlib.sha256(about).hexdigest(), truncated=truncated, record_index=record_index,
    )


def reason_for(exc: BaseException) -> str:
    """The letter's reason: an ArchiverError's own message (written for people, without content); for anything
    else only the type, since its text may quote the input."""
    if isinstance(exc, ArchiverError):
        return exc.message
    return f"unexpected {type(exc).__name__}"


def problems_of(exc: BaseException | None) -> list[Problem]:
    """What exactly was wrong, from `exc` or the error it was raised from: a ValidationFailed's problems, or
    where and what of a msgspec validation error (msgspec names paths and types, never values)."""
    while exc is not None:
        if isinstance(exc, ArchiverError) and exc.details.get("problems"):
            return [Problem(str(p.get("field", "")), str(p.get("problem", "")))
                    for p in exc.details["problems"] if isinstance(p, dict)]
        if isinstance(exc, msgspec.ValidationError):
            text = str(exc)
            problem, at, path = text.rpartition(" - at `")
            return [Problem(path.rstrip("`"), problem) if at else Problem("$", text)]
        exc = exc.__cause__
    return []


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars] + "…"
