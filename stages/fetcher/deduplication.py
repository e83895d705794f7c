"""Which records of a scheduled window earlier windows of its schedule already fetched (ExportRequest.deduplication).

A schedule's windows overlap, so records Cognigy makes visible late are read by the window after; the ones read
before are passed on once. Per schedule (its `scope`) the fetcher remembers the ids of records it passed on with a
timestamp at or after the request's `remember_from`, where the next window's read starts: one FetchedIds entry per
page in `fetch.checkpoints`, written in the page's transaction and read back at start, so a restarted fetcher
remembers exactly what it published. A record is known by its `id` (or `_id`) and dated by its `timestamp`
(ISO-8601). One without an id is always passed on; one without a readable timestamp is remembered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from shared.messages import ExportRequest, FetchedIds
from shared.nesting import json_array
from stages.fetcher.pages import FetchedPage, source_record

IDS_KEY_PREFIX = b"ids:"


def ids_key(export_id: str, page_index: int) -> bytes:
    """The FetchedIds entry's key in `fetch.checkpoints`; an export id has no ':', so none is an export's key."""
    return IDS_KEY_PREFIX + f"{export_id}:{page_index:08d}".encode()


@dataclass(frozen=True)
class PageIds:
    """What de-duplication found in one page."""

    duplicates: list[str] = field(default_factory=list)  # fetched for the scope before: the verifier drops them
    fetched: FetchedIds | None = None  # to remember with the page (None: nothing a later window reads)


NO_IDS = PageIds()


class Deduplicator:
    """The remembered ids of every scope, from the FetchedIds entries of `fetch.checkpoints` (by key)."""

    def __init__(self, entries: dict[bytes, FetchedIds]) -> None:
        self.entries = dict(entries)
        self.ids: dict[str, set[str]] = {}
        for entry in entries.values():
            self.ids.setdefault(entry.scope, set()).update(entry.ids)

    def examine(self, request: ExportRequest, index: int, page: FetchedPage) -> PageIds:
        """The page's records already remembered for the request's scope, and the ids of the others to remember."""
        dedup = request.deduplication
        if dedup is None or not page.verified:
            # A page that never matched its checksum is dead-lettered whole: none of its records is archived, so
            # none may be skipped by a later window either.
            return NO_IDS
        try:
            items = json_array(page.body, "items")
        except msgspec.DecodeError:
            return NO_IDS  # the verifier dead-letters the page
        known = self.ids.get(dedup.scope, set())
        # Taken as late as the window allows: the source selected the record by its time, whatever it says.
        undated = request.window.end if request.window is not None else dedup.remember_from
        duplicates: dict[str, None] = {}
        remember: dict[str, None] = {}
        newest: datetime | None = None
        for raw in items:
            try:
                record = source_record(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # passed on, for the verifier to judge
            record_id = _record_id(record)
            if record_id is None:
                continue
            if record_id in known:
                duplicates[record_id] = None
                continue
            at = _timestamp(record.get("timestamp")) or undated
            if at >= dedup.remember_from:
                remember[record_id] = None
                newest = at if newest is None else max(newest, at)
        fetched = None if newest is None else FetchedIds(scope=dedup.scope, export_id=request.export_id,
                                                         page_index=index, ids=list(remember), newest=newest)
        return PageIds(list(duplicates), fetched)

    def remember(self, fetched: FetchedIds) -> None:
        """`fetched` was committed with its page."""
        self.entries[ids_key(fetched.export_id, fetched.page_index)] = fetched
        self.ids.setdefault(fetched.scope, set()).update(fetched.ids)

    def expired(self, request: ExportRequest) -> list[bytes]:
        """Keys of the scope's entries no window from the request's on reads back to (`newest` < remember_from)."""
        dedup = request.deduplication
        if dedup is None:
            return []
        return [key for key, entry in self.entries.items()
                if entry.scope == dedup.scope and entry.newest < dedup.remember_from]

    def forget(self, keys: Iterable[bytes]) -> None:
        """The entries under `keys` were tombstoned."""
        scopes = {self.entries.pop(key).scope for key in keys if key in self.entries}
        for scope in scopes:
            self.ids[scope] = {i for entry in self.entries.values() if entry.scope == scope for i in entry.ids}


def _record_id(record: dict[str, Any]) -> str | None:
    record_id = record.get("id") or record.get("_id")
    return record_id if isinstance(record_id, str) and record_id else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # Cognigy's times are UTC
