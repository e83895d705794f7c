"""Cognigy's error body: RFC 7807 plus `code` and `traceId` (cognigy-api.md section 4)."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from aiohttp import web

# Cognigy's own codes; anything else is sent as the HTTP status.
MISSING_ARGUMENT = 1000
RESOURCE_NOT_FOUND = 1002
CONFLICT = 1004
INVALID_ARGUMENT = 1005


def problem(
    status: int,
    code: int,
    detail: str,
    instance: str,
    *,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> web.Response:
    reason = HTTPStatus(status).phrase
    body = {
        "type": reason,
        "title": f"{reason} Error",
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "traceId": f"api--{uuid.uuid4()}",
        "details": details or {},
    }
    return web.json_response(body, status=status, headers=headers)
