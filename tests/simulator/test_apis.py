"""The simulator's OData, REST and credential surfaces over real HTTP, and its fault switches."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from simulator.config import DEMO_API_KEY, SimulatorConfig, parse_faults
from tests.simulator.test_server import assert_problem, simulator

CONFIG = SimulatorConfig(seed=3, conversations=20, page_size=10, job_ready_after_polls=0)


async def odata(client: httpx.AsyncClient, query: str, version: str = "v2.4") -> httpx.Response:
    return await client.get(f"/{version}/Conversations?{query}&apikey={DEMO_API_KEY}")


async def test_odata_filters_sorts_pages_and_counts() -> None:
    async with simulator(CONFIG) as client:
        everything = (await odata(client, "$top=1000")).json()
        records: list[dict[str, Any]] = everything["value"]
        assert everything["@odata.context"].endswith("/v2.4/$metadata#Conversations") and len(records) > 50
        t = records[10]["timestamp"]
        for literal in (f"'{t}'", t):  # quoted or bare
            rows = (await odata(client, f"$filter=timestamp ge {literal}&$orderby=timestamp asc")).json()["value"]
            assert rows == records[10:]
        session = records[0]["sessionId"]
        query = f"$filter=(sessionId eq '{session}' or type eq 'output') and timestamp lt '{t}'&$count=true"
        body = (await odata(client, query)).json()
        assert body["value"] == [r for r in records[:10] if r["sessionId"] == session or r["type"] == "output"]
        assert body["@odata.count"] == len(body["value"])
        page = (await odata(client, "$orderby=timestamp desc&$skip=2&$top=3&$select=id,timestamp")).json()["value"]
        assert page == [{"id": r["id"], "timestamp": r["timestamp"]} for r in records[::-1][2:5]]
        count = await client.get(f"/v2.4/Conversations/$count?$filter=timestamp ge '{t}'&apikey={DEMO_API_KEY}")
        assert count.text == str(len(records) - 10)
        assert next(iter((await odata(client, "$top=1", "v2.3")).json()["value"][0])) == "_id"


async def test_odata_refuses_bad_queries_and_credentials() -> None:
    async with simulator(CONFIG) as client:
        assert_problem(await odata(client, "$filter=timestamp ge 'yesterday'"), 400, 1005)
        assert_problem(await odata(client, "$filter=sessionId eq 'unclosed"), 400, 1005)
        assert_problem(await client.get("/v2.4/Conversations"), 401, 401)
        with_header = await client.get("/v2.4/Conversations?$top=1", headers={"apikey": DEMO_API_KEY})
        assert with_header.status_code == 200
        bearer = await client.get("/v2.4/Conversations", headers={"Authorization": "Bearer x"})
        assert "apikey" in assert_problem(bearer, 401, 401)["detail"]


async def test_rest_conversation_by_session_under_both_prefixes() -> None:
    async with simulator(CONFIG) as client:
        records = (await odata(client, "$top=1000")).json()["value"]
        session = records[0]["sessionId"]
        for prefix in ("/new", ""):
            body = (await client.get(f"{prefix}/v2.0/conversations/{session}",
                                     headers={"x-api-key": DEMO_API_KEY})).json()
            assert body["total"] == len(body["items"]) == sum(r["sessionId"] == session for r in records)
            assert [m["_id"] for m in body["items"]] == [r["id"] for r in records if r["sessionId"] == session]
            assert {"flowReferenceId", "expiresAt", "localeName"} <= set(body["items"][0])
        missing = await client.get("/new/v2.0/conversations/nope", params={"api_key": DEMO_API_KEY})
        assert_problem(missing, 404, 1002)


async def test_login_scopes_and_grants() -> None:
    config = SimulatorConfig(conversations=5, api_keys={"k" * 32: ["conversations:read"]})
    async with simulator(config) as client:
        login = await client.post("/api/v1/auth/login", json={"username": "demo-user", "password": "demo-password"})
        token = login.json()["access_token"]
        assert (await client.post("/api/v1/export/jobs", json={}, headers={"Authorization": f"Bearer {token}"}
                                  )).status_code == 202
        wrong = await client.post("/api/v1/auth/login", json={"username": "demo-user", "password": "x"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_grant")
        scoped = await client.post("/auth/oauth2/token", data={"grant_type": "client_credentials", "client_id":
                                   "demo-client", "client_secret": "demo-secret", "scope": "conversations:read"})
        narrow = {"Authorization": f"Bearer {scoped.json()['access_token']}"}
        forbidden = await client.post("/api/v1/export/jobs", json={}, headers=narrow)
        assert assert_problem(forbidden, 403, 403)["details"] == {"missing": "export:manage"}
        keyed = await client.post("/api/v1/export/jobs", json={}, headers={"X-API-Key": "k" * 32})
        assert_problem(keyed, 403, 403)


async def test_job_bodies_honour_range_and_faults_can_cut_them() -> None:
    async with simulator(CONFIG) as client:
        client.headers["X-API-Key"] = DEMO_API_KEY
        job = (await client.post("/api/v1/export/jobs", json={})).json()["jobId"]
        whole = await client.get(f"/api/v1/export/jobs/{job}/data")
        size = len(whole.content)
        part = await client.get(f"/api/v1/export/jobs/{job}/data", headers={"Range": "bytes=100-"})
        assert part.status_code == 206 and part.content == whole.content[100:]
        assert part.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
        assert part.headers["X-Content-Sha256"] == hashlib.sha256(whole.content).hexdigest()
        past = await client.get(f"/api/v1/export/jobs/{job}/data", headers={"Range": f"bytes={size}-"})
        assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{size}"


def test_faults_parse_from_json_and_name_mistakes() -> None:
    assert parse_faults('{"throttle_every": 3, "retry_after": "none"}').throttle_every == 3
    assert parse_faults(None) == parse_faults("")
    with pytest.raises(ValueError, match="unknown field `throttle`"):
        parse_faults('{"throttle": 3}')
