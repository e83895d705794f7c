"""The key store: each export's data key, wrapped by the master key, one small object per export
(`<export_id>/data-key.json`; `data-key.g<n>.json` after a re-keying erase), on a directory or an S3
prefix that must live apart from the archive.

It is kept apart so that the archive's backups and replicas never hold the keys: `archive expire` deletes
an export's wrapped key (crypto-shredding), and from then on no copy of its segments can be decrypted.
Back the key store up separately, with a retention no longer than the archive's.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from shared.archive.encryption import (
    ALGORITHM,
    DataKey,
    DecryptionFailed,
    KeyWrapper,
    load_key_wrapper,
    new_data_key_bytes,
)
from shared.archive.storage import FilesystemStore, ObjectMissing, ObjectStore, connect_s3, export_folders, split_s3_url
from shared.errors import ConfigError, DataKeyMissing
from shared.settings import Settings, env_name


class WrappedKey(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    data_key_id: str
    master_key_id: str
    algorithm: str = ALGORITHM
    wrapped: str  # base64 of the master key's output
    created_at: datetime


class KeyStore:
    """Data keys by export and generation: generation 0 is the key the archiver made; `subject erase
    --rekey` moves an export to a new generation and destroys the old ones."""

    def __init__(self, store: ObjectStore, wrapper: KeyWrapper | None) -> None:
        self.store = store
        self.wrapper = wrapper
        self._keys: dict[tuple[str, int], DataKey] = {}

    async def data_key(self, export_id: str, create: bool = False, generation: int = 0) -> DataKey:
        """The export's data key, unwrapped; with `create`, made first if there is none yet (several
        archivers may ask at once: one key wins, everyone uses it)."""
        cached = self._keys.get((export_id, generation))
        if cached is not None:
            return cached
        wrapper = self._wrapper()
        try:
            record = await self.wrapped(export_id, generation)
        except DataKeyMissing:
            if not create:
                raise
            record = await self._create(export_id, generation, wrapper)
        if record.master_key_id != wrapper.key_id:
            raise DataKeyMissing(f"export {export_id}: its data key was wrapped by master key "
                                 f"{record.master_key_id!r}, not {wrapper.key_id!r} "
                                 f"({env_name('archive.master_key_id')})")
        key = DataKey(record.data_key_id, wrapper.unwrap(base64.b64decode(record.wrapped), _context(record)))
        self._keys[(export_id, generation)] = key
        return key

    async def wrapped(self, export_id: str, generation: int = 0) -> WrappedKey:
        return await self._read(key_object(export_id, generation))

    async def destroy(self, export_id: str, keep: int | None = None) -> list[str]:
        """Delete the export's wrapped data keys (all, or all but generation `keep`); returns what went."""
        doomed = [k for k in await self.store.keys(export_id) if keep is None or k != key_object(export_id, keep)]
        await self.store.delete(doomed)
        self._keys = {k: v for k, v in self._keys.items() if k[0] != export_id or k[1] == keep}
        return doomed

    async def check_master_key(self, sample: int = 10) -> None:
        """Fail at start, not on the first page, when the master key cannot unwrap the data keys that say
        they were wrapped by it (a wrong key under the right id); looks at up to `sample` exports."""
        wrapper = self._wrapper()
        for export_id in (await export_folders(self.store))[:sample]:
            for key in await self.store.keys(export_id):
                record = await self._read(key)
                if record.master_key_id == wrapper.key_id:
                    try:
                        wrapper.unwrap(base64.b64decode(record.wrapped), _context(record))
                    except DecryptionFailed:
                        raise ConfigError(f"{env_name('archive.master_key')} is not master key {wrapper.key_id!r}:"
                                          f" it cannot unwrap the data key of export {export_id}") from None
                    return

    async def rewrap(self, old: KeyWrapper) -> tuple[int, int]:
        """Master key rotation: every data key wrapped by `old` is wrapped again by this store's master key
        (each in one atomic write, so an interrupted run is simply run again). Returns (rewrapped, already
        done); a key wrapped by a third master key is an error, named."""
        new = self._wrapper()
        done = already = 0
        for export_id in await export_folders(self.store):
            for key in await self.store.keys(export_id):
                record = await self._read(key)
                if record.master_key_id == new.key_id:
                    already += 1
                    continue
                if record.master_key_id != old.key_id:
                    raise DataKeyMissing(f"export {export_id}: its data key was wrapped by master key "
                                         f"{record.master_key_id!r}, neither the old ({old.key_id!r}) nor the new one")
                secret = old.unwrap(base64.b64decode(record.wrapped), _context(record))
                wrapped = base64.b64encode(new.wrap(secret, _context(record))).decode()
                await self.store.put(key, msgspec.json.encode(msgspec.structs.replace(
                    record, master_key_id=new.key_id, wrapped=wrapped)))
                done += 1
        self._keys.clear()
        return done, already

    async def _read(self, key: str) -> WrappedKey:
        try:
            return msgspec.json.decode(await self.store.get(key), type=WrappedKey)
        except ObjectMissing:
            raise DataKeyMissing(
                f"no data key {self.store.location(key)} in the key store (destroyed when the export expired or "
                "was re-keyed, or this is not the key store it was written to): its segments cannot be decrypted"
            ) from None

    async def _create(self, export_id: str, generation: int, wrapper: KeyWrapper) -> WrappedKey:
        data_key_id = new_data_key_bytes()[:8].hex()
        record = WrappedKey(export_id=export_id, data_key_id=data_key_id, master_key_id=wrapper.key_id, wrapped="",
                            created_at=datetime.now(UTC))
        secret = new_data_key_bytes()
        record = msgspec.structs.replace(record, wrapped=base64.b64encode(wrapper.wrap(secret,
                                                                                     _context(record))).decode())
        if await self.store.put_if_absent(key_object(export_id, generation), msgspec.json.encode(record)):
            return record
        return await self.wrapped(export_id, generation)  # another process made it first

    def _wrapper(self) -> KeyWrapper:
        if self.wrapper is None:
            raise ConfigError(f"the archive is encrypted: set {env_name('archive.master_key')} "
                              f"(or {env_name('archive.master_key')}_FILE) to read or write it")
        return self.wrapper


def key_object(export_id: str, generation: int = 0) -> str:
    return f"{export_id}/data-key{f'.g{generation}' if generation else ''}.json"


def _context(record: WrappedKey) -> bytes:
    # Binds a wrapped key to its export: a key file copied to another export's name does not unwrap.
    return f"cognigy-archiver/data-key/{record.export_id}/{record.data_key_id}".encode()


@asynccontextmanager
async def open_key_store(settings: Settings) -> AsyncIterator[KeyStore]:
    check_apart(settings)
    location = settings.archive.key_store
    store: ObjectStore
    if location.startswith("s3://"):
        bucket, prefix = split_s3_url(location)
        store = await connect_s3(settings, bucket, prefix)
    else:
        store = FilesystemStore(Path(location))
    try:
        yield KeyStore(store, load_key_wrapper(settings))
    finally:
        await store.close()


def check_apart(settings: Settings) -> None:
    """The key store must not sit inside the archive (or the archive inside it): a backup of one would
    then carry the other, and destroying a key would no longer shred anything."""
    location = settings.archive.key_store
    name = env_name("archive.key_store")
    if not location:
        raise ConfigError(f"{name} is empty: set a directory or s3://bucket/prefix apart from the archive")
    if location.startswith("s3://"):
        if settings.archive.backend != "s3":
            return
        bucket, prefix = split_s3_url(location)
        archive_prefix = settings.archive.s3.prefix.strip("/")
        if bucket == settings.archive.s3.bucket and _nested(prefix, archive_prefix):
            raise ConfigError(f"{name} ({location}) overlaps the archive (s3://{settings.archive.s3.bucket}/{archive_prefix})"
                              ": use another bucket, or prefixes that do not contain each other")
        return
    if settings.archive.backend == "filesystem":
        keys, archive = Path(location).resolve(), settings.archive.path.resolve()
        if keys.is_relative_to(archive) or archive.is_relative_to(keys):
            raise ConfigError(f"{name} ({location}) overlaps the archive directory ({settings.archive.dir}): "
                              "keep the keys apart from the archive and its backups")


def _nested(a: str, b: str) -> bool:
    a, b = a.strip("/"), b.strip("/")
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")
