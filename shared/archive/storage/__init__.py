"""Archive storage: one interface (`ObjectStore`), a filesystem and an S3-compatible backend, and
`open_store`, which builds the one the settings name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.archive.storage.base import InvalidObjectKey, ObjectMissing, ObjectStore, StorageError, export_folders
from shared.archive.storage.filesystem import FilesystemStore
from shared.errors import ConfigError
from shared.settings import Settings

__all__ = ["FilesystemStore", "InvalidObjectKey", "ObjectMissing", "ObjectStore", "StorageError", "connect_s3",
           "export_folders", "open_store", "split_s3_url"]


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[ObjectStore]:
    store: ObjectStore
    if settings.archive.backend == "s3":
        settings.require("archive.s3.bucket")
        store = await connect_s3(settings, settings.archive.s3.bucket, settings.archive.s3.prefix)
    else:
        store = FilesystemStore(settings.archive.path)
    try:
        yield store
    finally:
        await store.close()


async def connect_s3(settings: Settings, bucket: str, prefix: str) -> ObjectStore:
    """A store on `bucket`/`prefix` with the endpoint and credentials of the settings."""
    from shared.archive.storage.s3 import S3Store  # botocore is a heavy import; only S3 users pay for it

    s3 = settings.archive.s3
    return await S3Store.connect(
        bucket=bucket, prefix=prefix, endpoint_url=s3.endpoint_url, region=s3.region,
        access_key_id=s3.access_key_id, secret_access_key=s3.secret_access_key.reveal())


def split_s3_url(url: str) -> tuple[str, str]:
    """("bucket", "prefix") of "s3://bucket/prefix"."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise ConfigError(f"{url!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")
