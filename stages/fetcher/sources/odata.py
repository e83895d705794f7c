"""Cognigy's OData analytics endpoint, collection `Conversations` (one record per message), paged by keyset:
`$orderby=timestamp asc` and `$filter=timestamp ge <last timestamp>`, dropping the records already seen at
that timestamp (timestamps tie). Records are grouped into pages of `CA_COGNIGY_PAGE_RECORDS`, encoded as the
export-job API encodes its pages.

A short answer is never taken for the end: Cognigy's largest `$top` is not documented, and a server may cap
an answer silently. The data ends only where the server confirms it: an empty answer, or `/$count` (asked
after a short answer, or one with nothing new) showing every row at or after the cursor was delivered. An
answer with `@odata.nextLink` is followed to the rest of its rows (same origin only: the link gets the
credentials). Fewer rows than asked while more remain is a cap: `$top` is lowered to it. A tie larger than an
answer (every row already seen, more remaining) is read on with `$skip` past the rows seen; that relies on
the server keeping its order among them, so the tie's size is counted once it is passed.

Quirks handled (cognigy-api.md section 2): some servers take the datetime literal quoted, others bare; a
keyset query at or past the newest record (the first one included: a window after it) can answer 500
instead of an empty page, which `$count` confirms or refutes.

The resume token is the keyset cursor after a page's last record: its timestamp and the ids seen at it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import msgspec

from shared.errors import SourceError
from shared.messages import ExportRequest
from shared.nesting import json_array, shallow
from shared.settings import Settings, redact_url
from stages.fetcher.api_client import ApiClient
from stages.fetcher.pages import Pages, local_page, source_record, with_record_id
from stages.fetcher.sources.base import ClientSidePaging

log = logging.getLogger(__name__)
VERSIONS = ("v2.3", "v2.4")


class Cursor(msgspec.Struct):
    """After `timestamp` (None: the window's start), having seen `ids` at exactly that timestamp."""

    timestamp: str | None = None
    ids: list[str] = []

    def seen(self, record: dict[str, Any]) -> bool:
        return record["timestamp"] == self.timestamp and record["id"] in self.ids

    def after(self, record: dict[str, Any]) -> bool:
        """Whether the cursor is past `record`, which a keyset query from it cannot return."""
        return self.timestamp is not None and _instant(record["timestamp"]) < _instant(self.timestamp)

    def advance(self, record: dict[str, Any]) -> None:
        if record["timestamp"] == self.timestamp:
            self.ids.append(record["id"])
        else:
            self.timestamp, self.ids = record["timestamp"], [record["id"]]

    def token(self) -> str:
        return msgspec.json.encode(self).decode()


class _Metadata(msgspec.Struct):
    next_link: str | None = msgspec.field(default=None, name="@odata.nextLink")


@dataclass(frozen=True)
class _Answer:
    rows: list[dict[str, Any]]
    next_link: str | None = None


class ODataSource(ClientSidePaging):
    def __init__(self, api: ApiClient, settings: Settings) -> None:
        self.api = api
        base = (settings.cognigy.odata_url or settings.cognigy.base_url).rstrip("/")
        self.version = settings.cognigy.odata_version
        self.url = f"{base}/{self.version}/Conversations"
        self.top = settings.cognigy.odata_top
        self.capped = False  # whether the server was seen to answer fewer rows than `$top` asks for
        self.page_records = settings.cognigy.page_records
        self.quoted = True  # the v2.4 docs quote datetimes; older servers want them bare

    async def pages(self, request: ExportRequest, job_id: str, resume_token: str | None) -> Pages:
        fetched = msgspec.json.decode(resume_token, type=Cursor) if resume_token else Cursor()
        emitted = Cursor(fetched.timestamp, list(fetched.ids))
        wanted = set(request.session_ids)
        buffer: list[dict[str, Any]] = []
        exhausted, any_page = False, resume_token is not None
        async with contextlib.aclosing(self._records(request, fetched)) as records:
            while True:
                # One record beyond a page before emitting it, so the last page is known to be the last.
                while len(buffer) <= self.page_records and not exhausted:
                    record = await anext(records, None)
                    exhausted = record is None
                    if record is not None and (not wanted or record["sessionId"] in wanted):
                        buffer.append(record)
                chunk, buffer = buffer[:self.page_records], buffer[self.page_records:]
                for row in chunk:
                    emitted.advance(row)
                last = exhausted and not buffer
                if chunk or not any_page:  # an empty selection still has one (empty) page
                    yield local_page(chunk, None if last else emitted.token())
                    any_page = True
                if last:
                    return

    async def _records(self, request: ExportRequest, cursor: Cursor) -> AsyncGenerator[dict[str, Any], None]:
        """Every record after `cursor` to the window's end, in order, advancing `cursor` past each; ends only
        where the server confirmed the end."""
        tie: str | None = None  # the timestamp whose tie is being read with `$skip`
        while True:
            skip = len(cursor.ids) if tie is not None else 0
            answer = await self._query(request, cursor, skip)
            returned, new, asked = 0, 0, self.top
            first_rows = len(answer.rows)
            while True:
                returned += len(answer.rows)
                for row in answer.rows:
                    if cursor.seen(row):
                        continue
                    if cursor.after(row):
                        raise SourceError(f"OData answered a record of {row['timestamp']} for a query from "
                                          f"{cursor.timestamp}: it does not filter or order as asked")
                    if tie is not None and row["timestamp"] != tie:
                        await self._check_tie(request, tie, len(cursor.ids))
                        tie = None
                    cursor.advance(row)
                    new += 1
                    yield row
                if answer.next_link is None:
                    break
                answer = await self._follow(answer.next_link)
            if returned == 0:
                break  # an empty answer: nothing at or after the cursor
            # Only a short answer, or one with nothing new, could be the end: the server is asked whether it is.
            if (returned < asked or not new) and await self._count(request, cursor) <= len(cursor.ids):
                break  # every row at or after the cursor was delivered
            if first_rows < asked and returned == first_rows:
                self._capped_at(first_rows)
            if not new:
                if tie is not None:
                    raise SourceError(self._stuck(cursor))
                tie = cursor.timestamp
        if tie is not None:
            await self._check_tie(request, tie, len(cursor.ids))

    def _capped_at(self, rows: int) -> None:
        log.warning("OData answered %d rows for $top=%d with more to come: the server caps its answers; "
                    "asking for %d from now on", rows, self.top, rows)
        self.top, self.capped = rows, True

    def _stuck(self, cursor: Cursor) -> str:
        problem = (f"more than {len(cursor.ids)} records share the timestamp {cursor.timestamp} and OData "
                   "ignores $skip, so the rest of them cannot be read")
        if self.capped:  # a larger $top would not be honoured either
            return f"{problem}; the server caps its answers at {self.top} rows"
        return f"{problem}; raise CA_COGNIGY_ODATA_TOP above the size of the tie"

    async def _check_tie(self, request: ExportRequest, timestamp: str, read: int) -> None:
        """`$skip` inside a tie skips the right rows only if the server kept their order: counted, not trusted."""
        tied = await self._count(request, self._clauses(request, [f"timestamp eq {self._literal(timestamp)}"]))
        if tied > read:
            raise SourceError(f"{tied} records share the timestamp {timestamp} but paging through them with $skip "
                              f"read {read}: the server does not keep their order between queries")

    async def _query(self, request: ExportRequest, cursor: Cursor, skip: int) -> _Answer:
        params = {"$filter": self._filter(request, cursor), "$orderby": "timestamp asc", "$top": str(self.top)}
        if skip:
            params["$skip"] = str(skip)
        try:
            response = await self._get(self.url, params, quirks=frozenset({500}))
        except SourceError as exc:
            if not self.quoted or exc.details.get("status") != 400:
                raise
            self.quoted = False  # perhaps it is the quotes; if the bare query fails too, it was not
            try:
                answer = await self._query(request, cursor, skip)
            except SourceError:
                self.quoted = True
                raise exc from None
            log.info("OData refused a quoted datetime literal; using bare ones")
            return answer
        if response.status_code == 500:
            count = await self._count(request, cursor)
            if count <= len(cursor.ids):
                return _Answer([])  # the server's way of saying "past the newest record"
            response = await self._get(self.url, params)
        return _answer(response.content)

    async def _follow(self, link: str) -> _Answer:
        link = urljoin(self.url, link)  # OData allows a link relative to the request's URL
        here, there = urlsplit(self.url), urlsplit(link)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise SourceError(f"OData's @odata.nextLink leads to another server ({redact_url(link)}); it is not "
                              "followed with this tenant's credentials")
        return _answer((await self._get(link, None)).content)

    async def _get(self, url: str, params: dict[str, str] | None, *,
                   quirks: frozenset[int] = frozenset()) -> httpx.Response:
        try:
            return await self.api.request("GET", url, surface="odata", params=params, passthrough=quirks)
        except SourceError as exc:
            if exc.details.get("status") != 404:
                raise
            other = next(v for v in VERSIONS if v != self.version)
            raise SourceError(f"{exc.message}; if the tenant serves OData {other} only, set "
                              f"CA_COGNIGY_ODATA_VERSION={other}", details=exc.details) from None

    async def _count(self, request: ExportRequest, matching: Cursor | str) -> int:
        """How many records match: those at or after a cursor, or a `$filter`."""
        text = self._filter(request, matching) if isinstance(matching, Cursor) else matching
        response = await self._get(self.url + "/$count", {"$filter": text})
        try:
            return int(response.text.strip())
        except ValueError:
            raise SourceError(f"OData $count answered {response.text[:80]!r}, not a number") from None

    def _filter(self, request: ExportRequest, cursor: Cursor) -> str:
        window = request.window
        if window is None:  # validation requires one; this keeps the types honest
            raise SourceError("the OData source needs a time window")
        start = cursor.timestamp or _odata_time(window.start)
        return self._clauses(request, [f"timestamp ge {self._literal(start)}",
                                       f"timestamp lt {self._literal(_odata_time(window.end))}"])

    def _clauses(self, request: ExportRequest, clauses: list[str]) -> str:
        if request.session_range is not None:
            clauses = [*clauses, f"sessionId ge '{_quoted(request.session_range.first)}'",
                       f"sessionId le '{_quoted(request.session_range.last)}'"]
        return " and ".join(clauses)

    def _literal(self, timestamp: str) -> str:
        return f"'{timestamp}'" if self.quoted else timestamp


def _answer(content: bytes) -> _Answer:
    """The rows and `@odata.nextLink` of an answer; a record nested too deeply to be skipped
    is split out without recursion (shared/nesting.py) and left for the verifier to judge."""
    try:
        try:
            metadata = msgspec.json.decode(content, type=_Metadata)
        except RecursionError:
            top = shallow(content)
            metadata = msgspec.convert(top if isinstance(top, dict) else {}, _Metadata)
        rows = [source_record(raw) for raw in json_array(content, "value")]
    except msgspec.DecodeError as exc:  # also covers ValidationError
        raise SourceError(f"OData answered something that is not a `value` list of objects: {exc}") from None
    records = [with_record_id(row, fallback="") for row in rows]
    undated = next((r for r in records if not isinstance(r.get("timestamp"), str)), None)
    if undated is not None:  # the keyset is the timestamp: such a record cannot be paged past
        raise SourceError(f"OData answered a record without a timestamp (id {str(undated['id'])[:40]!r})")
    return _Answer(records, metadata.next_link)


def _instant(timestamp: str) -> datetime:
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        raise SourceError(f"OData answered a record whose timestamp {timestamp[:40]!r} is not a date and time") \
            from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _odata_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _quoted(text: str) -> str:
    return text.replace("'", "''")  # OData escapes a quote inside a string literal by doubling it
