"""What the notifier sends itself: the outcome of each webhook delivery attempt, on `notifier.deliveries`
(co-partitioned with `archive.segments`, key export_id). No other stage reads or writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from shared.messages import SCHEMA_VERSION, ExportId

DeliveryState = Literal["pending", "delivered", "abandoned"]


class DeliveryOutcome(msgspec.Struct, frozen=True, kw_only=True, tag="delivery_outcome"):
    """What one delivery attempt came to. The delivery worker sends it to `notifier.deliveries`, on the
    partition number of the export's state, so the state change goes through the transactional loop.
    Applying one twice changes nothing: an outcome counts only for the next attempt of a pending delivery."""

    export_id: ExportId
    msg_id: str
    url: str
    attempt: int
    state: DeliveryState
    status: int | None
    detail: str
    next_attempt_at: datetime
    disable_endpoint: bool = False  # the endpoint answered 410 Gone
    v: int = SCHEMA_VERSION
