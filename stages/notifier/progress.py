"""Counting an export's archived pages against its total, and its storage against its quota: pure
functions on NotifierState, so the same input always gives the same state."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import msgspec

from shared.errors import QuotaExceeded
from shared.messages import ExportTotal, SegmentWritten
from stages.notifier.changelog import NotifierState
from stages.notifier.page_ranges import add_page, count_pages, has_page

BYTES_PER_MB = 1_000_000


def apply(state: NotifierState, message: SegmentWritten | ExportTotal, at: datetime) -> NotifierState:
    if isinstance(message, ExportTotal):
        return msgspec.structs.replace(state, total_pages=message.total_pages, total_records=message.total_records,
                                       started_at=message.started_at)
    if state.options is None:
        state = msgspec.structs.replace(state, options=message.options)
    if message.dead:
        if message.page_index in state.dead_pages:
            return state
        return msgspec.structs.replace(state, dead_pages=sorted([*state.dead_pages, message.page_index]))
    if has_page(state.archived_pages, message.page_index):
        return state
    redactions = Counter(state.redactions)
    for r in message.redactions:
        redactions[r.entity_type] += r.count
    return msgspec.structs.replace(
        state, archived_pages=add_page(state.archived_pages, message.page_index),
        records=state.records + message.records, bytes=state.bytes + message.bytes,
        uncompressed_bytes=state.uncompressed_bytes + message.uncompressed_bytes,
        rejected_records=state.rejected_records + message.rejected_records, redactions=dict(redactions),
        first_archived_at=state.first_archived_at or at)


def is_complete(state: NotifierState) -> bool:
    if state.total_pages is None:
        return False
    return count_pages(state.archived_pages) + len(state.dead_pages) >= state.total_pages


def quota_breach(state: NotifierState) -> QuotaExceeded | None:
    """The export's segments take more than its `max_storage_mb` (1 MB = 10^6 bytes, compressed as stored)."""
    limit = state.options.max_storage_mb if state.options else None
    if limit is None or state.bytes <= limit * BYTES_PER_MB:
        return None
    return QuotaExceeded(f"export {state.export_id} needs more than its storage quota of {limit} MB "
                         f"({state.bytes:,} bytes archived so far): the export is failed and its objects deleted",
                         details={"export_id": state.export_id, "max_storage_mb": limit,
                                  "archived_bytes": state.bytes})
