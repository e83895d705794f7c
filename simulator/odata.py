"""OData v2.3/v2.4 `Conversations` over the dataset: `$filter` (eq ne gt ge lt le, and, or, parentheses;
datetimes quoted or bare), `$orderby`, `$top`, `$skip`, `$select`, `$count=true` and `/$count`; as faults, a
silent cap on the rows of an answer, server-driven paging with `@odata.nextLink`, one version only.

v2.4 records carry `id`, v2.3 records `_id` (cognigy-api.md section 2).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.problems import INVALID_ARGUMENT, RESOURCE_NOT_FOUND, problem
from simulator.state import STATE, State

Predicate = Callable[[dict[str, Any], datetime], bool]
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
_TOKEN = re.compile(r"\s*(?:(\()|(\))|'((?:[^']|'')*)'|([^\s()']+))")
_LITERAL_SAFE = "'(),:"  # left as they are in a query value, as OData clients write them
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")


class FilterError(ValueError):
    pass


class Literal:
    def __init__(self, text: str, quoted: bool) -> None:
        self.text = text
        self.quoted = quoted


class _Parser:
    """`expr := conj ('or' conj)*`, `conj := term ('and' term)*`, `term := '(' expr ')' | field op literal`."""

    def __init__(self, text: str, datetime_literals: str) -> None:
        self.tokens: list[str | Literal] = []
        for match in _TOKEN.finditer(text):
            left, right, quoted, bare = match.groups()
            self.tokens.append(Literal(quoted.replace("''", "'"), True) if quoted is not None
                               else left or right or bare)
        if "".join(m.group(0) for m in _TOKEN.finditer(text)).strip() != text.strip():
            raise FilterError(f"cannot parse $filter {text!r}")
        self.position = 0
        self.datetime_literals = datetime_literals
        self.timestamp_floor: datetime | None = None  # the highest `timestamp gt/ge` bound, for the past-end quirk

    def parse(self) -> Predicate:
        predicate = self._expr()
        if self.position != len(self.tokens):
            raise FilterError("unexpected text after the end of $filter")
        return predicate

    def _next(self) -> str | Literal:
        if self.position >= len(self.tokens):
            raise FilterError("$filter ends too soon")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self) -> str | Literal | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _expr(self) -> Predicate:
        return self._joined("or", self._conj, any)

    def _conj(self) -> Predicate:
        return self._joined("and", self._term, all)

    def _joined(self, word: str, part: Callable[[], Predicate],
                combine: Callable[[Iterable[bool]], bool]) -> Predicate:
        terms = [part()]
        while self._peek() == word:
            self.position += 1
            terms.append(part())
        return terms[0] if len(terms) == 1 else lambda r, t: combine(p(r, t) for p in terms)

    def _term(self) -> Predicate:
        token = self._next()
        if token == "(":
            inner = self._expr()
            if self._next() != ")":
                raise FilterError("missing ')'")
            return inner
        field, op, value = token, self._next(), self._next()
        if not isinstance(field, str) or not isinstance(op, str) or op not in COMPARISONS:
            raise FilterError(f"expected `field op value`, got {field!r} {op!r}")
        compare = COMPARISONS[op]
        if field == "timestamp":
            moment = self._datetime(value)
            if op in ("gt", "ge") and (self.timestamp_floor is None or moment > self.timestamp_floor):
                self.timestamp_floor = moment
            return lambda r, t: compare(t, moment)
        literal = _scalar(value)
        return lambda r, t: r.get(field) is not None and compare(r.get(field), literal)

    def _datetime(self, value: str | Literal) -> datetime:
        text, quoted = (value.text, value.quoted) if isinstance(value, Literal) else (value, False)
        if not _DATETIME.match(text):
            raise FilterError(f"{text!r} is not a datetime")
        if (quoted and self.datetime_literals == "bare") or (not quoted and self.datetime_literals == "quoted"):
            raise FilterError(f"this server takes datetimes {self.datetime_literals}, not {text!r}")
        return datetime.fromisoformat(text)


def _scalar(value: str | Literal) -> Any:
    if isinstance(value, Literal):
        return value.text
    if value in ("true", "false"):
        return value == "true"
    if value == "null":
        return None
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        raise FilterError(f"{value!r} is not a literal (quote strings)") from None


async def conversations(request: web.Request) -> web.Response:
    state = request.app[STATE]
    faults = state.config.faults
    selected = _select(request, state, past_end_quirk=faults.odata_past_end_500)
    if isinstance(selected, web.Response):
        return selected
    rows, total = selected
    version = request.match_info["version"]
    body: dict[str, Any] = {"@odata.context": f"{request.url.origin()}/{version}/$metadata#Conversations"}
    if request.query.get("$count") == "true":
        body["@odata.count"] = total
    if faults.odata_max_top:
        rows = rows[:faults.odata_max_top]  # and not a word about it, as servers with a page cap may do
    if faults.odata_page_rows and len(rows) > faults.odata_page_rows:
        rows = rows[:faults.odata_page_rows]
        body["@odata.nextLink"] = _next_link(request, len(rows))
    body["value"] = rows
    return web.json_response(body)


async def count(request: web.Request) -> web.Response:
    selected = _select(request, request.app[STATE], past_end_quirk=False)
    if isinstance(selected, web.Response):
        return selected
    return web.Response(text=str(selected[1]), content_type="text/plain")


def _next_link(request: web.Request, served: int) -> str:
    """The same query for the rows after the `served` ones: `$skip` moved on, `$top` what is left of it."""
    query = dict(request.query)
    query["$skip"] = str(int(query.get("$skip", "0")) + served)
    if "$top" in query:
        query["$top"] = str(int(query["$top"]) - served)
    text = "&".join(f"{key}={quote(value, safe=_LITERAL_SAFE)}" for key, value in query.items())
    return f"{request.url.origin()}{request.path}?{text}"


def _select(request: web.Request, state: State, *,
            past_end_quirk: bool) -> tuple[list[dict[str, Any]], int] | web.Response:
    only = state.config.faults.odata_only_version
    if only and request.match_info["version"] != only:
        return problem(404, RESOURCE_NOT_FOUND, f"this tenant serves OData {only} only", request.path)
    if "%24" in request.query_string.upper():
        return problem(400, INVALID_ARGUMENT, "query options must be spelled `$...`, not percent-encoded", request.path)
    query = request.query
    faults = state.config.faults
    try:
        parser = _Parser(query.get("$filter", ""), faults.odata_datetime_literals)
        predicate = parser.parse() if query.get("$filter") else None
        top = int(query.get("$top", "0")) or None
        skip = int(query.get("$skip", "0"))
    except (FilterError, ValueError) as exc:
        return problem(400, INVALID_ARGUMENT, f"invalid query: {exc}", request.path)
    records, timestamps = state.visible()
    matched = [(r, t) for r, t in zip(records, timestamps, strict=True) if predicate is None or predicate(r, t)]
    newest = timestamps[-1] if timestamps else None
    floor = parser.timestamp_floor
    if past_end_quirk and newest is not None and floor is not None and floor >= newest:
        return problem(500, 1008, "internal error", request.path)  # what real tenants were seen to do
    for field, descending in reversed(_orderby(query.get("$orderby", ""))):
        matched.sort(key=lambda pair: (pair[1] if field == "timestamp" else str(pair[0].get(field))),
                     reverse=descending)
    rows = [r for r, _ in matched[skip:][:top]]
    fields = [f.strip() for f in query.get("$select", "").split(",") if f.strip()]
    version = request.match_info["version"]
    return [_shaped(r, fields, version) for r in rows], len(matched)


def _orderby(text: str) -> list[tuple[str, bool]]:
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, _, direction = part.partition(" ")
        keys.append((field, direction.strip().lower() == "desc"))
    return keys


def _shaped(record: dict[str, Any], fields: list[str], version: str) -> dict[str, Any]:
    row = {k: v for k, v in record.items() if not fields or k in fields}
    if version == "v2.3" and "id" in row:
        row = {"_id": row.pop("id"), **row}
    return row
