"""Ids from a request or from the source become URL path segments and file names: percent-encoded, never a
dot segment, never a name outside its directory. Before, a REST session id `..` was sent as
`/conversations/..` (which the client resolves to another path), and `fetch --transcripts` wrote each
transcript to `<session id>.json`, so a source's `../../x` landed outside the output directory."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from shared.errors import SourceError, ValidationFailed
from shared.export_requests import validate_export_request
from shared.settings import Settings, load_settings
from simulator.config import DEMO_API_KEY
from stages.fetcher.to_directory import fetch_to_directory
from tests.http_servers import serving
from tests.stages.fetcher.simulated import Sim, export_request, fetch_all

HOSTILE_SESSIONS = ["../../escaped", ".hidden", "a/b", "plain"]


@pytest.mark.parametrize("session_id", ["..", ".", "", "a\nb", "x" * 257])
async def test_a_session_id_that_names_another_path_is_refused_before_any_request(sim: Sim,
                                                                                 session_id: str) -> None:
    request = export_request("rest", session_ids=[sorted(sim.state.sessions)[0], session_id])
    with pytest.raises(ValidationFailed) as caught:
        validate_export_request(request, Settings())
    assert [p["field"] for p in caught.value.details["problems"]] == ["session_ids[1]"]
    if session_id in ("..", "."):  # past validation (a request built in-process): still never sent
        with pytest.raises(SourceError, match="cannot name a URL path segment"):
            await fetch_all(sim.api_key_settings(), request)
        assert not any("no route" in route for route in (await sim.stats())["requests"])


@pytest.fixture
async def lenient_source() -> AsyncIterator[str]:
    """An export-job API whose records name hostile session ids, and that serves any transcript path."""
    items = [{"id": f"r{i}", "sessionId": s, "timestamp": "2025-01-01T00:00:00.000Z"}
             for i, s in enumerate(HOSTILE_SESSIONS)]
    page = msgspec.json.encode({"items": items})

    def checked(body: bytes) -> web.Response:
        return web.Response(body=body, content_type="application/json",
                            headers={"X-Content-Sha256": hashlib.sha256(body).hexdigest()})

    async def create(request: web.Request) -> web.Response:
        return web.json_response({"jobId": "j1"}, status=202)

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": "COMPLETED", "progress": 100})

    async def data(request: web.Request) -> web.Response:
        return checked(page)

    async def anything(request: web.Request) -> web.Response:
        return checked(msgspec.json.encode({"items": [], "path": request.path}))

    app = web.Application()
    app.router.add_post("/api/v1/export/jobs", create)
    app.router.add_get("/api/v1/export/jobs/j1", status)
    app.router.add_get("/api/v1/export/jobs/j1/data", data)
    app.router.add_get("/{tail:.*}", anything)
    async with serving(app) as url:
        yield url


async def test_transcripts_are_named_inside_their_directory_whatever_the_session_ids(lenient_source: str,
                                                                                    tmp_path: Path) -> None:
    settings = load_settings({"CA_COGNIGY_BASE_URL": lenient_source, "CA_COGNIGY_AUTH": "api_key",
                              "CA_COGNIGY_API_KEY": DEMO_API_KEY, "CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.01"})
    out = tmp_path / "out"
    summary = await fetch_to_directory(settings, export_request(), out, transcripts=True)
    assert summary.transcripts == len(HOSTILE_SESSIONS)
    assert sorted(p.name for p in (out / "transcripts").iterdir()) == sorted(
        ["%2E.%2F..%2Fescaped.json", "%2E.%2F..%2Fescaped.json.sha256", "%2Ehidden.json", "%2Ehidden.json.sha256",
         "a%2Fb.json", "a%2Fb.json.sha256", "plain.json", "plain.json.sha256"])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing beside the output directory
