"""Serving a checksummed body the way a tenant does: whole, from a `Range` offset, or (a fault) cut off."""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from simulator.problems import problem

_OPEN_RANGE = re.compile(r"bytes=(\d+)-$")


async def serve_body(request: web.Request, body: bytes, headers: dict[str, str], *, sha256: str | None = None,
                     cut_after: int | None = None) -> web.StreamResponse:
    """`body` with `X-Content-Sha256` (of the whole body; `sha256` overrides it, to lie), honouring an
    open-ended `Range: bytes=N-` (206, or 416 past the end). With `cut_after`, the connection drops after
    that many bytes, before the response is complete."""
    headers = {**headers, "X-Content-Sha256": sha256 or hashlib.sha256(body).hexdigest(), "Accept-Ranges": "bytes"}
    match = _OPEN_RANGE.match(request.headers.get("Range", ""))
    status, part = 200, body
    if match:
        start = int(match.group(1))
        if start >= len(body):
            return problem(416, 416, f"range starts at {start}; the body has {len(body)} bytes", request.path,
                           headers={**headers, "Content-Range": f"bytes */{len(body)}"})
        status, part = 206, body[start:]
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
    if cut_after is None:
        return web.Response(status=status, body=part, content_type="application/json", headers=headers)
    # Chunked, so the client cannot tell from a length that bytes are missing: only the missing end marker
    # (the connection drops) says so, even when every byte of the body did arrive.
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = "application/json"
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(part[:cut_after])
    if request.transport is not None:
        request.transport.abort()
    return response
