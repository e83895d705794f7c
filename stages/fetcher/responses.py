"""Reading what Cognigy answered, tolerantly: a body that is not what it should be is the caller's error to
name, not a crash."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from shared.nesting import TooDeeplyNested, decode_json


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
