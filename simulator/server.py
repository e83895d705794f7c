"""The Cognigy-compatible HTTP server: OAuth2 token and password login, export jobs with paged data and
per-session transcripts, OData `Conversations`, REST conversations; all from one seeded dataset, so the
three can be compared record for record.

Faults come from the config, never from chance (see `simulator.config.Faults`). The `/_sim/*` routes need
no credentials and are never limited or faulted: they are for tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import signal
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from simulator import auth, odata, rest
from simulator.auth import SIM_PREFIX
from simulator.bodies import serve_body
from simulator.config import SimulatorConfig, dataset_window
from simulator.dataset import generate_dataset, ground_truth_jsonl, records_jsonl
from simulator.export_jobs import MEBIBYTE, ExportJob, JobRequest, encode_pages, rule_violations, select_records
from simulator.faults import inject_faults, throttled
from simulator.problems import CONFLICT, INVALID_ARGUMENT, MISSING_ARGUMENT, RESOURCE_NOT_FOUND, problem
from simulator.state import STATE, State

__all__ = ["SimulatorConfig", "build_app", "dataset_window", "run"]
JSON_LINES = "application/x-ndjson"
JOBS = "/api/v1/export/jobs"


def build_app(config: SimulatorConfig) -> web.Application:
    dataset = generate_dataset(config.seed, config.conversations, config.dataset_start, config.dataset_days,
                               seconds=config.dataset_seconds)
    # Outermost first: count every request, rate-limit it, inject faults, then check its credentials.
    app = web.Application(middlewares=[_count_requests, _rate_limit, inject_faults, auth.require_credentials])
    app[STATE] = State.create(config, dataset)
    app.router.add_post(auth.TOKEN_PATH, auth.issue_token)
    app.router.add_post(auth.LOGIN_PATH, auth.login)
    app.router.add_post(JOBS, _create_job)
    app.router.add_get(JOBS + "/{jobId}", _job_status)
    app.router.add_get(JOBS + "/{jobId}/data", _job_data)
    app.router.add_get(JOBS + "/{jobId}/transcripts/{sessionId}", _job_transcript)
    version = "{version:v2\\.[34]}"
    app.router.add_get(f"/{version}/Conversations", odata.conversations)
    app.router.add_get(f"/{version}/Conversations/$count", odata.count)
    for prefix in ("/new", ""):  # the docs call /new/v2.0, some clients /v2.0: both work
        app.router.add_get(prefix + "/v2.0/conversations/{sessionId}", rest.conversation)
    app.router.add_get("/_sim/stats", _stats)
    app.router.add_get("/_sim/ground-truth", _ground_truth)
    app.router.add_get("/_sim/records", _records)
    app.router.add_get("/_sim/arrivals", _arrivals)
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
    state = request.app[STATE]
    counted = not request.path.startswith(SIM_PREFIX)
    if counted:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "(no route)"
        state.requests[f"{request.method} {route}"] += 1
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # aiohttp's own 404/405 for unknown routes: answer in the same error format as everything else.
        if exc.status < 400:
            raise
        response = problem(exc.status, exc.status, exc.reason, request.path)
    if counted:
        state.responses[response.status] += 1
    return response


@web.middleware
async def _rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if state.limiter is None or request.path.startswith(SIM_PREFIX):
        return await handler(request)
    wait = state.limiter.retry_after(request.remote or "unknown")
    if wait is None:
        return await handler(request)
    return throttled(request, wait, state.config.faults.retry_after)  # with or without Retry-After, as every 429


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
    selection = select_records(*state.visible(), job_request)
    size = sum(len(page) for page in encode_pages(selection, state.config.page_size))
    quota = job_request.max_storage_mb
    if quota is not None and size > quota * MEBIBYTE:
        detail = f"quota exceeded: the selection is {size / MEBIBYTE:.2f} MB, max_storage_mb is {quota}"
        return problem(413, 413, detail, request.path)
    job = ExportJob.create(selection, state.config.page_size, state.token_key)
    job.failure = state.config.faults.job_fails_with
    state.jobs[job.job_id] = job
    return web.json_response({"jobId": job.job_id}, status=202)


async def _job_status(request: web.Request) -> web.Response:
    state = request.app[STATE]
    job = state.jobs.get(request.match_info["jobId"])
    if job is None:
        return _job_not_found(request)
    ready_after = state.config.job_ready_after_polls
    completed = job.polls >= ready_after
    failure = job.failure
    progress = 100 if completed else (job.polls + 1) * 100 // (ready_after + 1)
    job.polls += 1
    body = {
        "jobId": job.job_id,
        "status": ("FAILED" if failure else "COMPLETED") if completed else "PROCESSING",
        "progress": progress,
        "totalPages": len(job.pages),
        "totalRecords": job.total_records,
        "errorMessage": failure if completed and failure else None,
    }
    return web.json_response(body)


async def _job_data(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    job = state.jobs.get(request.match_info["jobId"])
    if job is None:
        return _job_not_found(request)
    if job.polls < state.config.job_ready_after_polls or job.failure:
        detail = "the job is not COMPLETED; poll its status until it is"
        return problem(409, CONFLICT, detail, request.path)
    # The query parameter wins over the header: it is what a client puts there on purpose.
    token = request.query.get("page_token", request.headers.get("X-Resume-Token"))
    index = 0 if token is None else job.page_index(token)
    if index is None:
        return problem(400, INVALID_ARGUMENT, "unknown or invalid page token for this job", request.path)
    served = state.pages_served.setdefault(job.job_id, Counter())
    earlier = served[index]
    served[index] += 1
    body = job.pages[index]
    faults = state.config.faults
    lie = index in state.config.corrupt_pages or (index in faults.flaky_checksum_pages and earlier < faults.flaky_times)
    headers = {"X-Page-Index": str(index), "X-Total-Pages": str(len(job.pages))}
    if index + 1 < len(job.pages):
        headers["X-Next-Page-Token"] = headers["X-Resume-Token"] = job.page_tokens[index + 1]
    await asyncio.sleep(state.config.page_delay_seconds)
    cut = int(len(body) * faults.truncate_fraction) if index in faults.truncate_pages and earlier == 0 else None
    return await serve_body(request, body, headers, cut_after=cut,
                            sha256=hashlib.sha256(b"corrupted:" + body).hexdigest() if lie else None)


async def _job_transcript(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    job = state.jobs.get(request.match_info["jobId"])
    if job is None:
        return _job_not_found(request)
    session_id = request.match_info["sessionId"]
    body = job.transcripts.get(session_id)
    if body is None:
        return problem(404, RESOURCE_NOT_FOUND, f"session {session_id} is not in job {job.job_id}", request.path)
    await asyncio.sleep(state.config.page_delay_seconds)
    return await serve_body(request, body, {"X-Session-Id": session_id})


def _job_not_found(request: web.Request) -> web.Response:
    detail = f"export job {request.match_info['jobId']} not found"
    return problem(404, RESOURCE_NOT_FOUND, detail, request.path)


# --- test hooks ----------------------------------------------------------------------------------


async def _stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body: dict[str, Any] = {
        "requests": dict(state.requests),
        "responses": {str(status): count for status, count in sorted(state.responses.items())},
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


async def _arrivals(request: web.Request) -> web.Response:
    """Every record's id, timestamp and the moment it becomes visible to the APIs (null: from the start), one
    JSON object per line, in time order, whether it is visible yet or not."""
    state = request.app[STATE]
    lines = [
        msgspec.json.encode({"id": record["id"], "timestamp": record["timestamp"],
                             "visible_at": None if at == -math.inf else datetime.fromtimestamp(at, UTC).isoformat()})
        + b"\n"
        for record, at in zip(state.dataset.records, state.visible_at, strict=True)
    ]
    return web.Response(body=b"".join(lines), content_type=JSON_LINES)
