"""Reading what Cognigy answered, tolerantly: a body that is not what it should be is the caller's error to
name, not a crash."""

from __future__ import annotations

from typing import Any

import httpx


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; empty if it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
