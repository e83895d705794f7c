"""The S3-compatible backend, through aiobotocore (botocore's async port, kept by aio-libs).

A segment is one PUT: S3 makes an object visible only when its upload completed, so readers never see a
partial object, and a completed PUT is durable. Every PUT carries the body's SHA-256, which the server
checks, so bytes damaged on the way are refused rather than stored. botocore retries throttling and 5xx
answers itself (`max_attempts`); what still fails becomes a StorageError, and the stage retries the batch.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from shared.archive.storage.base import ObjectMissing, StorageError, check_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_MISSING = {"NoSuchKey", "404", "NotFound"}
_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes


class _PreconditionFailed(StorageError):
    """A conditional write found the object there already."""


class S3Store:
    def __init__(self, client: S3Client, exit_stack: AsyncExitStack, bucket: str, prefix: str) -> None:
        self.client = client
        self._exit_stack = exit_stack
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    async def connect(cls, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                      region: str | None = None, access_key_id: str | None = None,
                      secret_access_key: str | None = None, max_attempts: int = 5,
                      timeout_seconds: float = 60.0) -> S3Store:
        """A client for `bucket`; credentials left empty come from the usual AWS chain (env, IAM role)."""
        config = AioConfig(retries={"total_max_attempts": max_attempts, "mode": "standard"},
                           connect_timeout=timeout_seconds, read_timeout=timeout_seconds,
                           s3={"addressing_style": "path"} if endpoint_url else None)
        stack = AsyncExitStack()
        client = await stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=config))
        return cls(client, stack, bucket, prefix)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        async with self._errors("write", key):
            await self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                         ChecksumSHA256=checksum)

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            async with self._errors("write", key):
                # S3's conditional write: the server refuses it (412) if the key exists, atomically.
                await self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                             ChecksumSHA256=checksum, IfNoneMatch="*")
        except _PreconditionFailed:
            return False
        return True

    async def get(self, key: str) -> bytes:
        async with self._errors("read", key):
            response = await self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            async with response["Body"] as body:
                data: bytes = await body.read()
        return data

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        async with self._errors("read", key):
            response = await self.client.get_object(Bucket=self.bucket, Key=self._key(key),
                                                    Range=f"bytes={start}-{start + length - 1}")
            async with response["Body"] as body:
                data: bytes = await body.read()
        return data

    async def exists(self, key: str) -> bool:
        try:
            async with self._errors("check", key):
                await self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ObjectMissing:
            return False
        return True

    async def keys(self, prefix: str) -> list[str]:
        folder = self._key(prefix).rstrip("/") + "/"
        keys: list[str] = []
        async with self._errors("list", prefix):
            async for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                                    Prefix=folder):
                keys.extend(obj["Key"][len(self.prefix):] for obj in page.get("Contents", []))
        return sorted(keys)

    async def folders(self) -> list[str]:
        names: list[str] = []
        async with self._errors("list", ""):
            async for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"):
                names.extend(p["Prefix"][len(self.prefix):].rstrip("/") for p in page.get("CommonPrefixes", []))
        return sorted(names)

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start:start + _DELETE_BATCH]
            async with self._errors("delete", batch[0]):
                response = await self.client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": self._key(k)} for k in batch], "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageError(f"S3 refused to delete {len(errors)} object(s), e.g. {first.get('Key')}: "
                                   f"{first.get('Code')}")

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    async def close(self) -> None:
        await self._exit_stack.aclose()

    @asynccontextmanager
    async def _errors(self, action: str, key: str) -> AsyncIterator[None]:
        """botocore's errors as StorageError / ObjectMissing, with the S3 error code only (botocore's
        messages carry no credential, and nothing but the code is kept anyway)."""
        what = f"cannot {action} {self.location(key)}"
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            error = ObjectMissing if code in _MISSING else _PreconditionFailed if status == 412 else StorageError
            raise error(f"{what}: {code} (HTTP {status})") from None
        except (BotoCoreError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise StorageError(f"{what}: {type(exc).__name__}") from None
