"""The webhook bodies the notifier signs and sends (stages/notifier/webhooks.py `event_body`), as types: the
published contract of `archival.completed` and `export.status` (docs/schemas/, `cognigy-archiver schemas
write`). The tests decode every body the real notifier sends with these types, fields unknown to them refused,
so the contract cannot drift from what is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from shared.archive.audit import AuditHead
from shared.messages import ExportId

# Bumped on a change a receiver could trip on (tests/test_schema_contract.py holds it to that).
WEBHOOK_SCHEMA_VERSION = 1


class ArchivalCompletedData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The export is archived: its manifest, counts and where it lies."""

    export_id: ExportId
    partial: bool  # some pages or records are missing (dead_pages, rejected_records)
    pages: int | None
    records: int
    bytes: int  # as stored
    uncompressed_bytes: int
    duration_seconds: float
    throughput_mb_s: float | None
    redactions: dict[str, int]  # "TYPE:action" -> count
    dead_pages: list[int]
    rejected_records: int
    manifest: str  # the manifest's location (a path or an s3:// URL)
    manifest_sha256: str
    expires_at: str | None  # ISO 8601, when retention deletes it
    audit_head: AuditHead  # the audit log's head as of this export's entry: a copy the receiver holds


class ExportStatusData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A transition of an export: started, partial (then dead_pages, rejected_records) or failed (then error,
    and stage when the fetcher gave up)."""

    export_id: ExportId
    state: Literal["started", "partial", "failed"]
    dead_pages: list[int] | None = None
    rejected_records: int | None = None
    error: Any = None  # failed: {"error": code, "message": ..., "details": {...}}, or the fetcher's error code
    stage: str | None = None


class ArchivalCompletedEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of the `archival.completed` webhook (Standard Webhooks: webhook-id, -timestamp, -signature)."""

    type: Literal["archival.completed"]
    timestamp: datetime
    data: ArchivalCompletedData


class ExportStatusEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of the `export.status` webhook."""

    type: Literal["export.status"]
    timestamp: datetime
    data: ExportStatusData
