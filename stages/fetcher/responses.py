"""Reading what Cognigy answered, tolerantly: a body that is not what it should be is the caller's error to
name, not a crash."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx
import msgspec

from shared.nesting import TooDeeplyNested, decode_json

MAX_REASON = 500  # characters of a server's reason quoted in an error


def json_body(response: httpx.Response) -> Any:
    """The body as JSON, held to MAX_DEPTH levels; ValueError if it is not JSON (or nests deeper)."""
    try:
        return decode_json(response.content)
    except (msgspec.DecodeError, TooDeeplyNested) as exc:
        raise ValueError(str(exc)) from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; empty if it is not one."""
    try:
        body = json_body(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def describe(response: httpx.Response) -> str:
    """The server's reason for an error response, as one line of text (see `error_text`); a body that is
    not JSON is quoted as it is."""
    try:
        body = json_body(response)
    except ValueError:
        return response.text[:MAX_REASON] or response.reason_phrase
    return error_text(body, response.status_code)


def error_text(body: Any, status: int) -> str:
    """The reason an error body gives, whichever standard it follows: RFC 7807 (`title`, `detail`, and
    Cognigy's `traceId`), OData (`error: {code, message, details, innererror}`) or OAuth2 (`error`,
    `error_description`). Each field said once, as text; a body in none of these shapes as compact JSON."""
    if not isinstance(body, dict):
        return _compact(body)
    odata = _object(body.get("error"))
    inner = _object(odata.get("innererror"))
    details = odata.get("details")
    details = details if isinstance(details, list) else []
    title = _text(body.get("title"))
    if _restates(title, status):
        title = ""  # Cognigy's titles are the status phrase ("Bad Request Error"): the status says that already
    headline = ": ".join(part for part in (title, _text(body.get("detail"))) if part)
    reasons = [headline, _text(odata.get("message")), *[_detail(d) for d in details], _text(inner.get("message")),
               _text(body.get("error_description"))]
    codes = [("error", body.get("error") if not odata else None), ("code", odata.get("code")),
             ("traceId", body.get("traceId"))]
    text = "; ".join(dict.fromkeys(r for r in reasons if r))  # a detail repeating the message is said once
    tags = "; ".join(f"{name} {_text(value)}" for name, value in codes if _text(value))
    if text and tags:
        return f"{text} ({tags})"[:MAX_REASON]
    return (text or tags or _compact(body))[:MAX_REASON]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _detail(item: Any) -> str:
    """One of OData's `details`: its message, with the target it is about."""
    if not isinstance(item, dict):
        return _text(item)
    message, target = _text(item.get("message")), _text(item.get("target"))
    return f"{target}: {message}" if target and message else message or target


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _restates(title: str, status: int) -> bool:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return False
    return title.lower().removesuffix(" error") == phrase.lower()


def _compact(body: Any) -> str:
    return msgspec.json.encode(body).decode()[:MAX_REASON]
