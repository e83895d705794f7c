"""What the notifier keeps in its changelog, the compacted topic `notifier.state` (co-partitioned with
`archive.segments`, see shared/kafka/state.py): one NotifierState per export, key export_id, and an
EndpointDisabled per endpoint that answered 410 Gone. No other stage reads them."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages import SCHEMA_VERSION, ExportId, ExportOptions
from stages.notifier.messages import DeliveryState


class NotifierState(msgspec.Struct, frozen=True, kw_only=True, tag="notifier_state"):
    """The notifier's progress on one export, its changelog. Topic `notifier.state` (compacted)."""

    export_id: ExportId
    archived_pages: list[tuple[int, int]] = []  # inclusive ranges of page indices
    dead_pages: list[int] = []
    total_pages: int | None = None
    total_records: int | None = None
    records: int = 0
    bytes: int = 0
    rejected_records: int = 0
    redactions: dict[str, int] = {}
    started_at: datetime | None = None
    first_archived_at: datetime | None = None
    notified: bool = False
    uncompressed_bytes: int = 0
    options: ExportOptions | None = None  # from the first archived page
    failed: bool = False
    deliveries: list[WebhookDelivery] = []
    v: int = SCHEMA_VERSION


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """One event to one endpoint, kept in NotifierState until it is delivered or given up."""

    msg_id: str
    event_type: str
    url: str
    body: bytes  # the JSON payload, fixed once: every attempt sends the same bytes
    attempts: int = 0
    next_attempt_at: datetime
    state: DeliveryState = "pending"
    last_status: int | None = None
    detail: str = ""


class EndpointDisabled(msgspec.Struct, frozen=True, kw_only=True, tag="endpoint_disabled"):
    """A webhook endpoint answered 410 Gone: nothing more is sent to it. Written to every partition of
    `notifier.state`, so whichever replica owns an export knows."""

    url: str
    at: datetime
    v: int = SCHEMA_VERSION


ChangelogEntry = NotifierState | EndpointDisabled
