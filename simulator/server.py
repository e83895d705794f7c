"""The Cognigy-compatible HTTP server: OAuth2 token, export jobs, paged data with checksums.

Faults come from the config, never from chance, so a test can name exactly what goes wrong:
`corrupt_pages` lists the (0-based) pages whose checksum header lies, `rate_limit_per_minute` turns
on 429s. The `/_sim/*` routes need no token and are not rate limited: they are for tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.dataset import Dataset, generate_dataset, ground_truth_jsonl, records_jsonl
from simulator.export_jobs import (
    MEBIBYTE,
    ExportJob,
    JobRequest,
    encode_pages,
    rule_violations,
    select_records,
)
from simulator.problems import CONFLICT, INVALID_ARGUMENT, MISSING_ARGUMENT, RESOURCE_NOT_FOUND, problem
from simulator.rate_limit import SlidingWindowLimiter

TOKEN_PATH = "/auth/oauth2/token"
SIM_PREFIX = "/_sim/"
JSON_LINES = "application/x-ndjson"


class SimulatorConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8780  # 0 picks a free port; run() prints the one it got
    seed: int = 7
    conversations: int = 300
    page_size: int = 50
    client_id: str = "demo-client"
    client_secret: str = "demo-secret"
    token_ttl_seconds: int = 3600
    job_ready_after_polls: int = 2  # the first N status polls answer PROCESSING
    corrupt_pages: list[int] = []  # 0-based page indices whose X-Content-Sha256 is always wrong
    rate_limit_per_minute: int = 0  # 0 = no limit
    dataset_start: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    dataset_days: int = 30
    page_delay_seconds: float = 0.0  # latency of each data page, like a real tenant's

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {self.page_size}")
        for name in ("conversations", "token_ttl_seconds", "job_ready_after_polls", "rate_limit_per_minute"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def dataset_window(config: SimulatorConfig | None = None) -> tuple[datetime, datetime]:
    """The time window that holds the whole synthetic dataset."""
    config = config or SimulatorConfig()
    return config.dataset_start, config.dataset_start + timedelta(days=config.dataset_days)


@dataclass
class _State:
    config: SimulatorConfig
    dataset: Dataset
    timestamps: list[datetime]  # parsed record timestamps, parallel to dataset.records
    token_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry
    jobs: dict[str, ExportJob] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route" -> count
    pages_served: dict[str, Counter[int]] = field(default_factory=dict)  # job id -> page index -> count
    rate_limited: int = 0
    limiter: SlidingWindowLimiter | None = None


STATE = web.AppKey("simulator_state", _State)


def build_app(config: SimulatorConfig) -> web.Application:
    dataset = generate_dataset(config.seed, config.conversations, config.dataset_start, config.dataset_days)
    limit = config.rate_limit_per_minute
    state = _State(
        config=config,
        dataset=dataset,
        timestamps=[datetime.fromisoformat(record["timestamp"]) for record in dataset.records],
        limiter=SlidingWindowLimiter(limit) if limit > 0 else None,
    )
    # Outermost first: count every request, then rate-limit it, then check its token.
    app = web.Application(middlewares=[_count_requests, _rate_limit, _require_bearer_token])
    app[STATE] = state
    app.router.add_post(TOKEN_PATH, _issue_token)
    app.router.add_post("/api/v1/export/jobs", _create_job)
    app.router.add_get("/api/v1/export/jobs/{jobId}", _job_status)
    app.router.add_get("/api/v1/export/jobs/{jobId}/data", _job_data)
    app.router.add_get("/_sim/stats", _stats)
    app.router.add_get("/_sim/ground-truth", _ground_truth)
    app.router.add_get("/_sim/records", _records)
    return app


def run(config: SimulatorConfig) -> None:
    """Serve until SIGTERM or SIGINT, then close connections and return."""
    asyncio.run(_serve(config))


async def _serve(config: SimulatorConfig) -> None:
    runner = web.AppRunner(build_app(config), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        port = runner.addresses[0][1]
        print(f"simulator listening on http://{config.host}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


# --- middlewares ---------------------------------------------------------------------------------


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(SIM_PREFIX):
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "(no route)"
        request.app[STATE].requests[f"{request.method} {route}"] += 1
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # aiohttp's own 404/405 for unknown routes: answer in the same error format as everything else.
        if exc.status < 400:
            raise
        return problem(exc.status, exc.status, exc.reason, request.path)


@web.middleware
async def _rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if state.limiter is None or request.path.startswith(SIM_PREFIX):
        return await handler(request)
    wait = state.limiter.retry_after(request.remote or "unknown")
    if wait is None:
        return await handler(request)
    state.rate_limited += 1
    limit = state.limiter.limit
    detail = f"rate limit of {limit} requests per minute exceeded; retry in {wait} s"
    return problem(429, 429, detail, request.path, headers={"Retry-After": str(wait)})


@web.middleware
async def _require_bearer_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == TOKEN_PATH or request.path.startswith(SIM_PREFIX):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _unauthorized(request, "missing bearer token: send Authorization: Bearer <access_token>")
    expires_at = request.app[STATE].access_tokens.get(token.strip())
    if expires_at is None:
        return _unauthorized(request, "unknown access token")
    if time.monotonic() >= expires_at:
        return _unauthorized(request, "access token expired; request a new one")
    return await handler(request)


def _unauthorized(request: web.Request, detail: str) -> web.Response:
    return problem(401, 401, detail, request.path, headers={"WWW-Authenticate": "Bearer"})


# --- OAuth2 --------------------------------------------------------------------------------------


async def _issue_token(request: web.Request) -> web.Response:
    state = request.app[STATE]
    form = await request.post()
    grant_type = form.get("grant_type")
    if not grant_type:
        error = {"error": "invalid_request", "error_description": "grant_type is missing"}
        return web.json_response(error, status=400)
    if grant_type != "client_credentials":
        return web.json_response({"error": "unsupported_grant_type"}, status=400)
    config = state.config
    if form.get("client_id") != config.client_id or form.get("client_secret") != config.client_secret:
        description = "client authentication failed: unknown client_id or wrong client_secret"
        return web.json_response({"error": "invalid_client", "error_description": description}, status=401)
    now = time.monotonic()
    # Forget expired tokens so a long-running demo server does not grow without bound.
    state.access_tokens = {token: expiry for token, expiry in state.access_tokens.items() if expiry > now}
    token = secrets.token_urlsafe(32)
    state.access_tokens[token] = now + config.token_ttl_seconds
    body = {"access_token": token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds}
    return web.json_response(body)


# --- export jobs ---------------------------------------------------------------------------------


async def _create_job(request: web.Request) -> web.Response:
    state = request.app[STATE]
    raw = await request.read()
    if not raw.strip():
        return problem(400, MISSING_ARGUMENT, "Validation failed. Missing payload.", request.path)
    try:
        job_request = msgspec.json.decode(raw, type=JobRequest)
    except msgspec.DecodeError as exc:  # also covers ValidationError
        return problem(400, INVALID_ARGUMENT, f"invalid request body: {exc}", request.path)
    violations = rule_violations(job_request)
    if violations:
        detail = "; ".join(violations)
        return problem(400, INVALID_ARGUMENT, detail, request.path, details={"problems": violations})
    selection = select_records(state.dataset.records, state.timestamps, job_request)
    pages = encode_pages(selection, state.config.page_size)
    size = sum(len(page) for page in pages)
    quota = job_request.max_storage_mb
    if quota is not None and size > quota * MEBIBYTE:
        detail = f"quota exceeded: the selection is {size / MEBIBYTE:.2f} MB, max_storage_mb is {quota}"
        return problem(413, 413, detail, request.path)
    job = ExportJob.create(pages, len(selection), state.token_key)
    state.jobs[job.job_id] = job
    return web.json_response({"jobId": job.job_id}, status=202)


async def _job_status(request: web.Request) -> web.Response:
    state = request.app[STATE]
    job = state.jobs.get(request.match_info["jobId"])
    if job is None:
        return _job_not_found(request)
    ready_after = state.config.job_ready_after_polls
    completed = job.polls >= ready_after
    progress = 100 if completed else (job.polls + 1) * 100 // (ready_after + 1)
    job.polls += 1
    body = {
        "jobId": job.job_id,
        "status": "COMPLETED" if completed else "PROCESSING",
        "progress": progress,
        "totalPages": len(job.pages),
        "totalRecords": job.total_records,
        "errorMessage": None,
    }
    return web.json_response(body)


async def _job_data(request: web.Request) -> web.Response:
    state = request.app[STATE]
    job = state.jobs.get(request.match_info["jobId"])
    if job is None:
        return _job_not_found(request)
    if job.polls < state.config.job_ready_after_polls:
        detail = "the job is still PROCESSING; poll its status until COMPLETED"
        return problem(409, CONFLICT, detail, request.path)
    # The query parameter wins over the header: it is what a client puts there on purpose.
    token = request.query.get("page_token", request.headers.get("X-Resume-Token"))
    index = 0 if token is None else job.page_index(token)
    if index is None:
        return problem(400, INVALID_ARGUMENT, "unknown or invalid page token for this job", request.path)
    body = job.pages[index]
    checksum = hashlib.sha256(body).hexdigest()
    if index in state.config.corrupt_pages:
        checksum = hashlib.sha256(b"corrupted:" + body).hexdigest()
    headers = {
        "X-Content-Sha256": checksum,
        "X-Page-Index": str(index),
        "X-Total-Pages": str(len(job.pages)),
    }
    if index + 1 < len(job.pages):
        headers["X-Next-Page-Token"] = headers["X-Resume-Token"] = job.page_tokens[index + 1]
    state.pages_served.setdefault(job.job_id, Counter())[index] += 1
    if state.config.page_delay_seconds:
        await asyncio.sleep(state.config.page_delay_seconds)
    return web.Response(body=body, content_type="application/json", headers=headers)


def _job_not_found(request: web.Request) -> web.Response:
    detail = f"export job {request.match_info['jobId']} not found"
    return problem(404, RESOURCE_NOT_FOUND, detail, request.path)


# --- test hooks ----------------------------------------------------------------------------------


async def _stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body: dict[str, Any] = {
        "requests": dict(state.requests),
        "pages_served": {
            job_id: {str(index): count for index, count in sorted(served.items())}
            for job_id, served in state.pages_served.items()
        },
        "rate_limited": state.rate_limited,
    }
    return web.json_response(body)


async def _ground_truth(request: web.Request) -> web.Response:
    return web.Response(body=ground_truth_jsonl(request.app[STATE].dataset), content_type=JSON_LINES)


async def _records(request: web.Request) -> web.Response:
    return web.Response(body=records_jsonl(request.app[STATE].dataset), content_type=JSON_LINES)
