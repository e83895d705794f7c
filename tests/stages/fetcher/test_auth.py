"""Authentication against the simulator: OAuth2 client credentials (cached, renewed ahead of expiry, one
renewal at a time, one refresh per 401), API keys for REST and OData, username/password login, and errors
that name what is wrong."""

from __future__ import annotations

import asyncio

import pytest

from shared.errors import ConfigError
from simulator.auth import identity_provider
from stages.fetcher.api_client import ApiClient
from stages.fetcher.errors import AuthenticationFailed, PermissionDenied
from tests.http_servers import serving
from tests.stages.fetcher.simulated import Sim, export_request, fetch_all, running_sim, sim_config

TOKEN = "POST /auth/oauth2/token"


async def test_one_token_serves_a_whole_export(sim: Sim) -> None:
    await fetch_all(sim.settings(), export_request())
    assert (await sim.stats())["requests"][TOKEN] == 1


async def test_a_short_lived_token_is_renewed_ahead_of_its_expiry() -> None:
    async with running_sim(sim_config(token_ttl_seconds=1, page_delay_seconds=0.15)) as sim:
        await fetch_all(sim.settings(), export_request())  # about 2 s of pages
        stats = await sim.stats()
        assert stats["requests"][TOKEN] >= 2
        assert "401" not in stats["responses"]  # renewed before the server would refuse it


async def test_tokens_that_die_early_cost_one_refresh_each_even_under_concurrency() -> None:
    faults = {"token_lifetime_seconds": 0.3}
    async with running_sim(sim_config(request_delay_seconds=0.05, faults=faults)) as sim:
        api = ApiClient(sim.settings(COGNIGY_MAX_CONCURRENCY="8"))
        try:
            for _ in range(3):
                calls = [api.request("GET", f"{sim.url}/new/v2.0/conversations/{s}", surface="rest")
                         for s in sorted(sim.state.sessions)[:8]]
                assert {r.status_code for r in await asyncio.gather(*calls)} == {200}
                await asyncio.sleep(0.4)  # the token dies
        finally:
            await api.close()
        stats = await sim.stats()
        # 8 requests hit each dead token at once: one refresh between them, not eight.
        assert stats["requests"][TOKEN] == 3
        assert stats["responses"]["401"] == 16


async def test_a_401_that_survives_a_refresh_is_final_and_names_the_settings() -> None:
    async with running_sim(sim_config(faults={"token_lifetime_seconds": 0.001})) as sim:  # dead on arrival
        with pytest.raises(AuthenticationFailed, match=r"\(401\) after a token refresh: access token expired.*"
                                                       "CA_COGNIGY_CLIENT_ID and CA_COGNIGY_CLIENT_SECRET"):
            await fetch_all(sim.settings(), export_request())
        stats = await sim.stats()
        # Each 401 cost exactly one refresh (a network hiccup may add a whole second attempt).
        assert stats["requests"][TOKEN] == stats["responses"]["401"] >= 2


async def test_wrong_client_secret_is_an_authentication_error(sim: Sim) -> None:
    with pytest.raises(AuthenticationFailed, match=r"refused the oauth2 credentials \(401\): client authentication "
                                                   r"failed.*check CA_COGNIGY_CLIENT_ID and CA_COGNIGY_CLIENT_SECRET"):
        await fetch_all(sim.settings(COGNIGY_CLIENT_SECRET="not-the-secret"), export_request())


async def test_a_missing_scope_is_a_403_that_names_it() -> None:
    async with running_sim(sim_config(client_scopes=["conversations:read"])) as sim:
        with pytest.raises(PermissionDenied, match=r"forbidden \(403\): missing scope export:manage.*need the "
                                                   r"export:manage scope"):
            await fetch_all(sim.settings(), export_request())


async def test_a_scope_the_client_may_not_have_is_named(sim: Sim) -> None:
    with pytest.raises(PermissionDenied, match=r"scope 'export:manage admin'.*not allowed for this client: admin"):
        await fetch_all(sim.settings(COGNIGY_SCOPE="export:manage admin"), export_request())


@pytest.mark.parametrize("where", ["header", "query"])
async def test_an_api_key_works_for_rest_export_jobs_and_odata(sim: Sim, where: str) -> None:
    settings = sim.api_key_settings(COGNIGY_API_KEY_IN=where)
    sessions = sorted(sim.state.sessions)[:2]
    for request in (export_request(), export_request("odata"), export_request("rest", session_ids=sessions)):
        assert (await fetch_all(settings, request)).records
    assert TOKEN not in (await sim.stats())["requests"]


async def test_an_api_key_without_the_odata_role_is_told_so() -> None:
    async with running_sim(sim_config(api_keys={"k" * 32: ["export:manage"]})) as sim:
        settings = sim.settings(COGNIGY_AUTH="api_key", COGNIGY_API_KEY="k" * 32)
        with pytest.raises(PermissionDenied, match=r"missing role odata.*the odata role"):
            await fetch_all(settings, export_request("odata"))
        with pytest.raises(AuthenticationFailed, match=r"refused the api_key credentials \(401\).*CA_COGNIGY_API_KEY"):
            await fetch_all(sim.settings(COGNIGY_AUTH="api_key", COGNIGY_API_KEY="j" * 32), export_request())


async def test_odata_with_a_bearer_token_is_a_configuration_error(sim: Sim) -> None:
    with pytest.raises(ConfigError, match="OData endpoint accepts only an API key"):
        await fetch_all(sim.settings(), export_request("odata"))


async def test_username_and_password_login_returns_a_bearer_token(sim: Sim) -> None:
    settings = sim.settings(COGNIGY_AUTH="password", COGNIGY_USERNAME="demo-user", COGNIGY_PASSWORD="demo-password")
    assert (await fetch_all(settings, export_request())).records
    assert (await sim.stats())["requests"]["POST /api/v1/auth/login"] == 1
    wrong = sim.settings(COGNIGY_AUTH="password", COGNIGY_USERNAME="demo-user", COGNIGY_PASSWORD="guess")
    with pytest.raises(AuthenticationFailed, match=r"wrong username or password.*CA_COGNIGY_USERNAME"):
        await fetch_all(wrong, export_request())


def test_missing_credentials_are_named_before_anything_is_sent(sim: Sim) -> None:
    with pytest.raises(ConfigError, match="CA_COGNIGY_API_KEY"):
        ApiClient(sim.settings(COGNIGY_AUTH="api_key"))


async def test_tokens_come_from_the_token_url_setting(sim: Sim) -> None:
    # The token endpoint on a server of its own, at a path of its own; the APIs accept what it issues.
    async with serving(identity_provider(sim.state, "/tenant/oauth2/token")) as idp:
        fetched = await fetch_all(sim.settings(COGNIGY_TOKEN_URL=f"{idp}/tenant/oauth2/token"), export_request())
        assert fetched.pages and len(sim.issued_tokens()) == 1
        assert TOKEN not in (await sim.stats())["requests"]  # the default <base>/auth/oauth2/token was not asked
        with pytest.raises(ConfigError, match=rf"no token endpoint at {idp}/nowhere \(404\): 404: Not Found; check "
                                              "CA_COGNIGY_TOKEN_URL"):
            await fetch_all(sim.settings(COGNIGY_TOKEN_URL=f"{idp}/nowhere"), export_request())
