"""Archive storage: one interface (`ObjectStore`), a filesystem and an S3-compatible backend, and
`open_store`, which builds the one the settings name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.settings import Settings
from shared.storage.base import ObjectMissing, ObjectStore, StorageError
from shared.storage.filesystem import FilesystemStore

__all__ = ["FilesystemStore", "ObjectMissing", "ObjectStore", "StorageError", "open_store"]


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[ObjectStore]:
    store: ObjectStore
    if settings.archive_backend == "s3":
        from shared.storage.s3 import S3Store  # botocore is a heavy import; only S3 users pay for it

        settings.require("s3_bucket")
        store = await S3Store.connect(
            bucket=settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region, access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key)
    else:
        store = FilesystemStore(settings.archive_path)
    try:
        yield store
    finally:
        await store.close()
