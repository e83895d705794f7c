"""How the fetcher proves who it is to Cognigy: an `httpx.Auth` per method (OAuth2 client credentials, an
API key, a username/password login), given to every request but token requests. A bearer token's flow owns
the token: fetched when first needed, cached, renewed ahead of its expiry, and refreshed once after a 401."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Generator
from typing import Any, Literal, Protocol, cast
from urllib.parse import quote

import httpx

from shared.errors import ConfigError
from shared.settings import Settings, redact_url
from shared.telemetry import metrics
from stages.fetcher.errors import AuthenticationFailed, PermissionDenied
from stages.fetcher.responses import describe, json_object

# Which API a request goes to: each takes credentials its own way. "token" requests carry none.
Surface = Literal["token", "export_job", "rest", "odata"]
# The request extension that names a request's surface, for the auth flow to read.
SURFACE = "cognigy_surface"
TOKEN_PATH = "/auth/oauth2/token"
LOGIN_PATH = "/api/v1/auth/login"
REFRESH_MARGIN_SECONDS = 60.0
# What a token endpoint may answer instead of a token: each is named in the error (404/405: nothing there).
REFUSALS = frozenset({400, 401, 403, 404, 405})


def surface_of(request: httpx.Request) -> Surface:
    return cast(Surface, request.extensions[SURFACE])


class TokenTransport(Protocol):
    async def request(self, method: str, url: str, *, surface: Surface, data: dict[str, str] | None = None,
                      json: Any = None, passthrough: frozenset[int] = frozenset()) -> httpx.Response: ...


class CognigyAuth(httpx.Auth, ABC):
    method: str
    hint: str  # the settings to check when Cognigy refuses the credentials

    @abstractmethod
    def secrets(self) -> list[str]:
        """Every secret value in play (tokens included), so error text can be scrubbed of them."""


class ApiKeyAuth(CognigyAuth):
    """The key on every request; a 401 is final (there is nothing to refresh)."""

    method = "api_key"
    hint = "CA_COGNIGY_API_KEY"

    def __init__(self, settings: Settings) -> None:
        settings.require("cognigy.api_key")
        self.key = settings.cognigy.api_key.reveal()
        self.in_query = settings.cognigy.api_key_in == "query"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # REST: `X-API-Key` or `api_key`; OData: `apikey`, as header or query (cognigy-api.md section 1).
        name = "apikey" if surface_of(request) == "odata" else ("api_key" if self.in_query else "X-API-Key")
        if self.in_query:
            # Appended as it is: httpx's own params would re-encode the query, OData's `$filter` included.
            pair = f"{name}={quote(self.key, safe='')}".encode()
            query = request.url.query
            request.url = request.url.copy_with(query=query + b"&" + pair if query else pair)
        else:
            request.headers[name] = self.key
        yield request

    def secrets(self) -> list[str]:
        return [self.key]


class BearerTokenAuth(CognigyAuth):
    """A cached bearer token, renewed ahead of expiry; one renewal at a time however many requests wait,
    and one refresh and retry after a 401 (the token expired or was revoked early)."""

    url_setting: str  # the setting that says where tokens come from, named when nothing answers there

    def __init__(self, settings: Settings, transport: TokenTransport, secret: str, url: str) -> None:
        self.secret = secret  # what the token is obtained with
        self.url = url
        self.scope = settings.cognigy.scope
        self.transport = transport
        self._token: str | None = None
        self._type = "Bearer"
        self._renew_at = 0.0
        self._generation = 0  # which token: a 401 refreshes only if nobody refreshed since it was handed out
        self._lock = asyncio.Lock()

    @abstractmethod
    async def _request_token(self) -> httpx.Response: ...

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if surface_of(request) == "odata":
            raise ConfigError("Cognigy's OData endpoint accepts only an API key: set CA_COGNIGY_AUTH=api_key "
                              "and CA_COGNIGY_API_KEY (its user needs the odata role)")
        handed_out = await self._authorize(request)
        response = yield request
        if response.status_code == 401:
            async with self._lock:
                if handed_out == self._generation:
                    await self._renew()
            await self._authorize(request)
            yield request

    def secrets(self) -> list[str]:
        return [self.secret, *([self._token] if self._token else [])]

    async def _authorize(self, request: httpx.Request) -> int:
        """Put the token on the request, renewed first if it is due; returns its generation."""
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                await self._renew()
            request.headers["Authorization"] = f"{self._type} {self._token}"
            return self._generation

    async def _renew(self) -> None:
        response = await self._request_token()
        body = json_object(response)
        if response.status_code != 200 or "access_token" not in body:
            self._refuse(response, body)
        expires_in = float(body.get("expires_in") or 3600)
        self._token = str(body["access_token"])
        self._type = str(body.get("token_type") or "Bearer").capitalize()
        # Renew before the server's expiry: a margin of a minute, less for short-lived tokens.
        self._renew_at = time.monotonic() + expires_in - min(REFRESH_MARGIN_SECONDS, expires_in / 10)
        self._generation += 1
        metrics.TOKEN_REFRESHES.inc()

    def _refuse(self, response: httpx.Response, body: dict[str, Any]) -> None:
        status, reason = response.status_code, describe(response) or "no reason given"
        if status in (404, 405):
            raise ConfigError(f"no token endpoint at {redact_url(self.url)} ({status}): {reason}; check "
                              f"{self.url_setting}")
        if body.get("error") == "invalid_scope" or status == 403:
            raise PermissionDenied(f"Cognigy refused the scope {self.scope or '(default)'!r} ({status}): {reason}; "
                                   "grant it to the client or change CA_COGNIGY_SCOPE")
        raise AuthenticationFailed(f"Cognigy refused the {self.method} credentials ({status}): {reason}; "
                                   f"check {self.hint}")


class OAuth2ClientCredentials(BearerTokenAuth):
    method = "oauth2"
    hint = "CA_COGNIGY_CLIENT_ID and CA_COGNIGY_CLIENT_SECRET"
    url_setting = "CA_COGNIGY_TOKEN_URL"

    def __init__(self, settings: Settings, transport: TokenTransport) -> None:
        settings.require("cognigy.client_id", "cognigy.client_secret")
        url = settings.cognigy.token_url or settings.cognigy.base_url.rstrip("/") + TOKEN_PATH
        super().__init__(settings, transport, settings.cognigy.client_secret.reveal(), url)
        self.client_id = settings.cognigy.client_id

    async def _request_token(self) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.secret}
        if self.scope:
            form["scope"] = self.scope
        return await self.transport.request("POST", self.url, surface="token", data=form, passthrough=REFUSALS)


class PasswordLogin(BearerTokenAuth):
    method = "password"
    hint = "CA_COGNIGY_USERNAME and CA_COGNIGY_PASSWORD"
    url_setting = "CA_COGNIGY_BASE_URL"

    def __init__(self, settings: Settings, transport: TokenTransport) -> None:
        settings.require("cognigy.username", "cognigy.password")
        super().__init__(settings, transport, settings.cognigy.password.reveal(),
                         settings.cognigy.base_url.rstrip("/") + LOGIN_PATH)
        self.username = settings.cognigy.username

    async def _request_token(self) -> httpx.Response:
        body = {"username": self.username, "password": self.secret, "scope": self.scope.split()}
        return await self.transport.request("POST", self.url, surface="token", json=body, passthrough=REFUSALS)


def authenticator(settings: Settings, transport: TokenTransport) -> CognigyAuth:
    if settings.cognigy.auth == "api_key":
        return ApiKeyAuth(settings)
    if settings.cognigy.auth == "password":
        return PasswordLogin(settings, transport)
    return OAuth2ClientCredentials(settings, transport)
