"""Cognigy's OData analytics endpoint, collection `Conversations` (one record per message), paged by keyset:
`$orderby=timestamp asc` and `$filter=timestamp ge <last timestamp>`, dropping the records already seen at
that timestamp (timestamps tie). Records are grouped into pages of `cognigy_page_records`, encoded as the
export-job API encodes its pages.

Quirks handled (cognigy-api.md section 2): some servers take the datetime literal quoted, others bare; a
keyset query at or past the newest record can answer 500 instead of an empty page, which `$count`
confirms or refutes.

The resume token is the keyset cursor after a page's last record: its timestamp and the ids seen at it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import msgspec

from shared.errors import SourceError
from shared.messages import ExportRequest
from shared.nesting import json_array
from shared.settings import Settings
from stages.fetcher.api_client import ApiClient
from stages.fetcher.pages import Pages, local_page, source_record, with_record_id
from stages.fetcher.sources.base import ClientSidePaging

log = logging.getLogger(__name__)


class Cursor(msgspec.Struct):
    """After `timestamp` (None: the window's start), having seen `ids` at exactly that timestamp."""

    timestamp: str | None = None
    ids: list[str] = []

    def advance(self, record: dict[str, Any]) -> None:
        if record["timestamp"] == self.timestamp:
            self.ids.append(record["id"])
        else:
            self.timestamp, self.ids = record["timestamp"], [record["id"]]

    def token(self) -> str:
        return msgspec.json.encode(self).decode()


class ODataSource(ClientSidePaging):
    def __init__(self, api: ApiClient, settings: Settings) -> None:
        self.api = api
        base = (settings.cognigy_odata_url or settings.cognigy_base_url).rstrip("/")
        self.url = f"{base}/{settings.cognigy_odata_version}/Conversations"
        self.top = settings.cognigy_odata_top
        self.page_records = settings.cognigy_page_records
        self.quoted = True  # the v2.4 docs quote datetimes; older servers want them bare

    async def pages(self, request: ExportRequest, job_id: str, resume_token: str | None) -> Pages:
        fetched = msgspec.json.decode(resume_token, type=Cursor) if resume_token else Cursor()
        emitted = Cursor(fetched.timestamp, list(fetched.ids))
        wanted = set(request.session_ids)
        buffer: list[dict[str, Any]] = []
        exhausted, any_page = False, resume_token is not None
        while True:
            # One record beyond a page before emitting it, so the last page is known to be the last.
            while len(buffer) <= self.page_records and not exhausted:
                rows = await self._batch(request, fetched)
                new = [row for row in rows if not (row["timestamp"] == fetched.timestamp and row["id"] in fetched.ids)]
                if len(rows) == self.top and not new:
                    raise SourceError(f"more than $top={self.top} records share the timestamp {fetched.timestamp}: "
                                      "raise CA_COGNIGY_ODATA_TOP")
                for row in new:
                    fetched.advance(row)
                buffer += [row for row in new if not wanted or row["sessionId"] in wanted]
                exhausted = len(rows) < self.top
            chunk, buffer = buffer[:self.page_records], buffer[self.page_records:]
            for row in chunk:
                emitted.advance(row)
            last = exhausted and not buffer
            if chunk or not any_page:  # an empty selection still has one (empty) page
                yield local_page(chunk, None if last else emitted.token())
                any_page = True
            if last:
                return

    async def _batch(self, request: ExportRequest, cursor: Cursor) -> list[dict[str, Any]]:
        params = {"$filter": self._filter(request, cursor), "$orderby": "timestamp asc", "$top": str(self.top)}
        quirks = frozenset({400} if self.quoted else set()) | frozenset({500} if cursor.timestamp else set())
        response = await self.api.request("GET", self.url, surface="odata", params=params, passthrough=quirks)
        if response.status_code == 400:
            log.info("OData refused a quoted datetime literal; using bare ones")
            self.quoted = False
            return await self._batch(request, cursor)
        if response.status_code == 500:
            if await self._count(request, cursor) <= len(cursor.ids):
                return []  # the server's way of saying "past the newest record"
            response = await self.api.request("GET", self.url, surface="odata", params=params)
        try:
            rows = [source_record(raw) for raw in json_array(response.content, "value")]
        except msgspec.DecodeError as exc:
            raise SourceError(f"OData answered something that is not a `value` list of objects: {exc}") from None
        return [with_record_id(row, fallback="") for row in rows]

    async def _count(self, request: ExportRequest, cursor: Cursor) -> int:
        response = await self.api.request("GET", self.url + "/$count", surface="odata",
                                          params={"$filter": self._filter(request, cursor)})
        try:
            return int(response.text.strip())
        except ValueError:
            raise SourceError(f"OData $count answered {response.text[:80]!r}, not a number") from None

    def _filter(self, request: ExportRequest, cursor: Cursor) -> str:
        window = request.window
        if window is None:  # validation requires one; this keeps the types honest
            raise SourceError("the OData source needs a time window")
        start = cursor.timestamp or _odata_time(window.start)
        clauses = [f"timestamp ge {self._literal(start)}", f"timestamp lt {self._literal(_odata_time(window.end))}"]
        if request.session_range is not None:
            clauses += [f"sessionId ge '{_quoted(request.session_range.first)}'",
                        f"sessionId le '{_quoted(request.session_range.last)}'"]
        return " and ".join(clauses)

    def _literal(self, timestamp: str) -> str:
        return f"'{timestamp}'" if self.quoted else timestamp


def _odata_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _quoted(text: str) -> str:
    return text.replace("'", "''")  # OData escapes a quote inside a string literal by doubling it
