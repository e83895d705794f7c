"""Cognigy's REST API v2.0, `GET /new/v2.0/conversations/{sessionId}`: one session's transcript per request,
for backfilling sessions by id. One page per session, in the order the request lists them; several
sessions are fetched at once (up to `CA_COGNIGY_MAX_CONCURRENCY`) and published in order. The resume token is
the position of the next session in the list.

A session Cognigy no longer has (404: expired or never existed) becomes an empty page and a warning, so
the export still accounts for every session asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from shared.errors import SourceError
from shared.messages import ExportRequest
from shared.nesting import json_array
from shared.settings import Settings
from stages.fetcher.api_client import ApiClient
from stages.fetcher.pages import Pages, local_page, source_record, with_record_id
from stages.fetcher.sources.base import ClientSidePaging, url_segment

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class RestSource(ClientSidePaging):
    def __init__(self, api: ApiClient, settings: Settings) -> None:
        self.api = api
        self.url = settings.cognigy.base_url.rstrip("/") + "/new/v2.0/conversations/"
        self.concurrency = settings.cognigy.max_concurrency

    async def pages(self, request: ExportRequest, job_id: str, resume_token: str | None) -> Pages:
        sessions = request.session_ids
        start = int(resume_token or 0)
        position = start
        async for records in ordered_map(sessions[start:], lambda s: self._session(s, request), self.concurrency):
            position += 1
            yield local_page(records, str(position) if position < len(sessions) else None)

    async def _session(self, session_id: str, request: ExportRequest) -> list[dict[str, Any]]:
        response = await self.api.request("GET", self.url + url_segment(session_id, "session id"), surface="rest",
                                          passthrough=frozenset({404}))
        if response.status_code == 404:
            log.warning("session %s: Cognigy has no such conversation (expired or never existed)", session_id)
            return []
        try:
            items = [source_record(raw) for raw in json_array(response.content, "items")]
        except msgspec.DecodeError as exc:
            raise SourceError(f"conversation {session_id}: not an `items` list of objects: {exc}") from None
        records = [with_record_id(item, fallback=_derived_id(item)) for item in items]
        window = request.window
        if window is None:
            return records
        return [r for r in records if window.start <= datetime.fromisoformat(r["timestamp"]) < window.end]


def _derived_id(item: dict[str, Any]) -> str:
    """A stable id for a message that came without one (the REST schema does not promise `_id`)."""
    key = "|".join(str(item.get(k)) for k in ("sessionId", "inputId", "outputId", "type", "timestamp"))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


async def ordered_map(items: Sequence[T], fn: Callable[[T], Coroutine[Any, Any, R]],
                      concurrency: int) -> AsyncIterator[R]:
    """`fn` over `items` with up to `concurrency` calls in flight; results in the order of `items`."""
    pending: deque[asyncio.Task[R]] = deque()
    try:
        for item in items:
            pending.append(asyncio.create_task(fn(item)))
            if len(pending) >= concurrency:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
