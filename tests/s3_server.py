"""A real S3-compatible HTTP server for tests (moto's server mode, in a thread), and a proxy in front of it
that can fail requests the way a flaky object store does: it reads half of an upload's body, then answers
500 InternalError (or drops the connection), so nothing reaches the server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import boto3
import httpx
import pytest
from aiohttp import web
from moto.server import ThreadedMotoServer

from cognigy_archiver.localkafka import free_port
from shared.archive.storage.s3 import S3Store

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-never-logged"
REGION = "us-east-1"
S3_ERROR = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
            b"<Message>We encountered an internal error. Please try again.</Message></Error>")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}


@dataclass
class FaultyProxy:
    upstream: str
    fail_puts: int = 0  # fail this many PUTs of keys containing `match`, then pass them through
    match: str = ""
    drop_connection: bool = False
    failed: int = 0
    puts: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "PUT" and self.match in request.path and self.failed < self.fail_puts:
            self.failed += 1
            length = int(request.headers.get("content-length", "0"))
            await request.content.readexactly(length // 2)  # the middle of the segment's upload
            if self.drop_connection and request.transport is not None:
                request.transport.close()
            return web.Response(status=500, body=S3_ERROR, content_type="application/xml",
                                headers={"Connection": "close"})
        body = await request.read()
        if request.method == "PUT":
            self.puts.append(request.path)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with httpx.AsyncClient() as http:
            answer = await http.request(request.method, self.upstream + request.path_qs, content=body,
                                        headers=headers)
        return web.Response(status=answer.status_code, body=answer.content,
                            headers={k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP})

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    bucket = f"archive-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                 aws_secret_access_key=SECRET_KEY).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
async def s3_proxy(s3_endpoint: str) -> AsyncIterator[FaultyProxy]:
    proxy = FaultyProxy(s3_endpoint)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def connect(endpoint: str, bucket: str, max_attempts: int = 2, prefix: str = "archive") -> S3Store:
    return await S3Store.connect(bucket=bucket, prefix=prefix, endpoint_url=endpoint, region=REGION,
                                 access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, max_attempts=max_attempts,
                                 timeout_seconds=10)


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The settings that point a stage at this server."""
    return {"CA_ARCHIVE_BACKEND": "s3", "CA_S3_BUCKET": bucket, "CA_S3_PREFIX": "archive",
            "CA_S3_ENDPOINT_URL": endpoint, "CA_S3_REGION": REGION, "CA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "CA_S3_SECRET_ACCESS_KEY": SECRET_KEY}
