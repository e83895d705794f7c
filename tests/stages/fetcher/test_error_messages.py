"""What a user reads when Cognigy answers with an error or a body the fetcher cannot use: real HTTP servers
answering RFC 7807, OData and OAuth2 error bodies, bodies cut off mid-transfer, and pages of another shape
(through `cognigy-archiver fetch`, a real process)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from shared.errors import SourceError
from shared.settings import Settings, load_settings
from simulator.config import DEMO_API_KEY, DEMO_CREDENTIALS
from simulator.server import build_app
from stages.fetcher.api_client import ApiClient
from tests.http_servers import serving
from tests.stages.fetcher.simulated import sim_config

PROBLEM = {"type": "https://docs.example/problems/invalid-filter", "title": "Invalid filter",
           "status": 400, "detail": "unknown property 'tiemstamp' in $filter", "instance": "/v2.4/Conversations",
           "traceId": "api--7807"}
ODATA = {"error": {"code": "BadRequest", "message": "The query specified in the URI is not valid.",
                   "details": [{"code": "InvalidProperty", "target": "$filter",
                                "message": "Could not find a property named 'tiemstamp'."}],
                   "innererror": {"message": "property not found", "type": "ODataException"}}}
ERROR_BODIES: dict[str, tuple[int, Any, str]] = {
    "rfc7807": (400, PROBLEM, "Invalid filter: unknown property 'tiemstamp' in $filter (traceId api--7807)"),
    "rfc7807-title-only": (409, {"title": "Export job still running", "status": 409},
                           "Export job still running"),
    "rfc7807-status-title": (404, {"title": "Not Found Error", "detail": "export job x not found"},
                             "export job x not found"),  # a title that only restates the status is not repeated
    "odata": (400, ODATA, "The query specified in the URI is not valid.; $filter: Could not find a property named "
                          "'tiemstamp'.; property not found (code BadRequest)"),
    "oauth2": (400, {"error": "invalid_request", "error_description": "grant_type is missing"},
               "grant_type is missing (error invalid_request)"),
    "other": (422, {"reason": {"why": "nope"}}, '{"reason":{"why":"nope"}}'),
}


async def error_body(request: web.Request) -> web.Response:
    status, body, _ = ERROR_BODIES[request.match_info["kind"]]
    return web.json_response(body, status=status)


async def cut_off(request: web.Request) -> web.StreamResponse:
    """1000 bytes announced, `arrived` sent, then the connection drops (no `Accept-Ranges`: no resuming)."""
    response = web.StreamResponse(headers={"Content-Length": "1000", "Content-Type": "application/json"})
    await response.prepare(request)
    arrived = int(request.match_info["arrived"])
    if arrived:
        await response.write(b"x" * arrived)
    await asyncio.sleep(0.05)  # the headers (and bytes) reach the client before the connection drops
    assert request.transport is not None
    request.transport.abort()
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/errors/{kind}", error_body)
    app.router.add_get("/cut/{arrived}", cut_off)
    async with serving(app) as url:
        yield url


def settings_for(url: str) -> Settings:
    return load_settings({"CA_COGNIGY_BASE_URL": url, "CA_COGNIGY_AUTH": "api_key",
                          "CA_COGNIGY_API_KEY": DEMO_API_KEY, "CA_COGNIGY_MAX_ATTEMPTS": "2",
                          "CA_COGNIGY_BACKOFF_CAP_SECONDS": "0.05"})


@pytest.mark.parametrize("kind", sorted(ERROR_BODIES))
async def test_error_bodies_are_read_as_text_with_every_field_they_give(server: str, kind: str) -> None:
    status, _, reason = ERROR_BODIES[kind]
    api = ApiClient(settings_for(server))
    try:
        with pytest.raises(SourceError) as caught:
            await api.request("GET", f"{server}/errors/{kind}", surface="rest")
    finally:
        await api.close()
    assert caught.value.message == f"GET /errors/{kind} failed ({status}): {reason}"


@pytest.mark.parametrize(("arrived", "said"), [(300, "body cut off after 300 of 1000 bytes"),
                                               (0, "body cut off before any of it arrived")])
async def test_a_cut_off_body_says_how_much_of_it_arrived(server: str, arrived: int, said: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    api = ApiClient(settings_for(server))
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(SourceError) as caught:
            await api.download(f"{server}/cut/{arrived}", surface="rest")
    finally:
        await api.close()
    assert caught.value.message.startswith(f"GET /cut/{arrived}: {said} (RemoteProtocolError); gave up after 2 "
                                           "attempts")
    logged = [r.getMessage() for r in caplog.records if "cut off" in r.getMessage()]
    assert len(logged) == 1 and logged[0].startswith(f"GET /cut/{arrived}: {said} (RemoteProtocolError); retry 1 in")


@web.middleware
async def data_pages_as_another_api_version(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The simulator's data pages re-shaped as `{"data": [...]}` (with a checksum that matches), as a tenant on
    another API version might send them."""
    response = await handler(request)
    if not request.path.endswith("/data") or not isinstance(response, web.Response) or response.status != 200:
        return response
    assert isinstance(response.body, bytes)
    body = msgspec.json.encode({"data": msgspec.json.decode(response.body)["items"]})
    headers = {**response.headers, "X-Content-Sha256": hashlib.sha256(body).hexdigest()}
    headers.pop("Content-Length", None)
    return web.Response(status=200, body=body, headers=headers)


async def test_fetch_fails_on_pages_of_another_shape_naming_the_page_and_the_shape(tmp_path: Path) -> None:
    app = build_app(sim_config())
    app.middlewares.append(data_pages_as_another_api_version)
    async with serving(app) as url:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CA_")}
        environ.update({"CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.05", **DEMO_CREDENTIALS})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cognigy_archiver.cli", "fetch", "--out", str(tmp_path), "--base-url", url,
            "--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z", env=environ,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, stdout.decode()
    kept = tmp_path / "dlq" / "00000000.json"
    assert stderr.decode().strip().splitlines()[-1] == (
        "error: page 0: cannot read the body (Object missing required field `items`); expected a JSON object "
        f"with an `items` array of records (kept in {kept})")
    assert b"records" not in stdout  # no "N pages, 0 records" report
    assert json.loads(kept.read_bytes())["data"] and not list((tmp_path / "pages").glob("*.json"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert not summary["ok"] and summary["error"].startswith("page 0: cannot read the body")
