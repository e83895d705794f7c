"""Who may call what: OAuth2 client credentials and a username/password login (bearer tokens with scopes),
and API keys (with the grants of their user). Each API takes credentials its own way (cognigy-api.md
section 1): REST and the export-job API take `X-API-Key`, `api_key` or a bearer token; OData takes only
`apikey`, as query or header."""

from __future__ import annotations

import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.problems import problem
from simulator.state import STATE, Grant, State

TOKEN_PATH = "/auth/oauth2/token"
LOGIN_PATH = "/api/v1/auth/login"
SIM_PREFIX = "/_sim/"


def is_odata(path: str) -> bool:
    return path.startswith(("/v2.3/", "/v2.4/"))


def required_grant(path: str) -> str:
    if is_odata(path):
        return "odata"
    if path.startswith("/api/v1/export/"):
        return "export:manage"
    return "conversations:read"


@web.middleware
async def require_credentials(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path in (TOKEN_PATH, LOGIN_PATH) or path.startswith(SIM_PREFIX):
        return await handler(request)
    state = request.app[STATE]
    grants = _odata_key(request, state) if is_odata(path) else _rest_grants(request, state)
    if isinstance(grants, web.Response):
        return grants
    needed = required_grant(path)
    if needed not in grants:
        kind = "role" if needed == "odata" else "scope"
        return problem(403, 403, f"missing {kind} {needed}", path, details={"missing": needed})
    return await handler(request)


def _odata_key(request: web.Request, state: State) -> frozenset[str] | web.Response:
    key = request.query.get("apikey") or request.headers.get("apikey")
    if not key:
        return problem(401, 401, "missing apikey: OData takes the API key as `apikey` (query or header)",
                       request.path)
    if key not in state.config.api_keys:
        return problem(401, 401, "unknown API key", request.path)
    return frozenset(state.config.api_keys[key])


def _rest_grants(request: web.Request, state: State) -> frozenset[str] | web.Response:
    key = request.headers.get("X-API-Key") or request.query.get("api_key")  # aiohttp matches header names in any case
    if key is not None:
        if key not in state.config.api_keys:
            return problem(401, 401, "unknown API key", request.path)
        return frozenset(state.config.api_keys[key])
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return problem(401, 401, "missing credentials: send X-API-Key, api_key or Authorization: Bearer",
                       request.path, headers={"WWW-Authenticate": "Bearer"})
    grant = state.access_tokens.get(token.strip())
    if grant is None:
        return problem(401, 401, "unknown access token", request.path, headers={"WWW-Authenticate": "Bearer"})
    if time.monotonic() >= grant.expires_at:
        return problem(401, 401, "access token expired; request a new one", request.path,
                       headers={"WWW-Authenticate": "Bearer"})
    return grant.grants


async def issue_token(request: web.Request) -> web.Response:
    """OAuth2 client credentials: `POST /auth/oauth2/token` (form)."""
    state = request.app[STATE]
    form = await request.post()
    grant_type = form.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "grant_type is missing")
    if grant_type != "client_credentials":
        return web.json_response({"error": "unsupported_grant_type"}, status=400)
    config = state.config
    if form.get("client_id") != config.client_id or form.get("client_secret") != config.client_secret:
        return _oauth_error(401, "invalid_client", "client authentication failed: unknown client_id or wrong "
                            "client_secret")
    return _granted(state, str(form.get("scope") or "").split(), config.client_scopes)


async def login(request: web.Request) -> web.Response:
    """Username and password: `POST /api/v1/auth/login` (JSON), as in the seeds."""
    state = request.app[STATE]
    try:
        body = await request.json()
        username, password = str(body["username"]), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return _oauth_error(400, "invalid_request", "send JSON with username and password")
    if state.config.users.get(username) != password:
        return _oauth_error(401, "invalid_grant", "wrong username or password")
    scopes = body.get("scope") or []
    return _granted(state, scopes if isinstance(scopes, list) else str(scopes).split(), state.config.client_scopes)


def identity_provider(state: State, path: str) -> web.Application:
    """The OAuth2 token endpoint alone, at `path` on a server of its own, issuing tokens the simulator's APIs
    (sharing `state`) accept: a tenant whose token URL is not `<base>/auth/oauth2/token`."""
    app = web.Application()
    app[STATE] = state
    app.router.add_post(path, issue_token)
    return app


def _granted(state: State, asked: list[str], allowed: list[str]) -> web.Response:
    refused = sorted(set(asked) - set(allowed))
    if refused:
        return _oauth_error(400, "invalid_scope", f"scope(s) not allowed for this client: {' '.join(refused)}")
    now = time.monotonic()
    # Forget expired tokens so a long-running demo server does not grow without bound.
    state.access_tokens = {t: g for t, g in state.access_tokens.items() if g.expires_at > now}
    config = state.config
    lifetime = config.faults.token_lifetime_seconds or config.token_ttl_seconds
    token = secrets.token_urlsafe(32)
    state.access_tokens[token] = Grant(expires_at=now + lifetime, grants=frozenset(asked or allowed))
    return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds})


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)
