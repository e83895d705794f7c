"""Retention: exports past their `expires_at` (completion + `retention_days`) are deleted, unless a legal
hold is set on them; every deletion and hold change is written to the audit log. Used by
`cognigy-archiver archive expire|hold` and by the archiver's optional periodic task.

An encrypted export is crypto-shredded first: its wrapped data key is deleted from the key store before
its objects, so the copies that deleting objects cannot reach (replicas, backups) become unreadable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from shared.archive.audit import AuditLog
from shared.archive.keystore import KeyStore
from shared.archive.manifest import complete_exports, past_retention
from shared.archive.segments import legal_hold_key
from shared.archive.storage import ObjectStore, StorageError

if TYPE_CHECKING:  # pyiceberg is an optional extra
    from shared.archive.iceberg_table import ArchiveTable

log = logging.getLogger(__name__)


class LegalHold(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    reason: str
    set_at: datetime


class Expiry(msgspec.Struct, frozen=True, kw_only=True):
    export_id: str
    expires_at: datetime | None
    outcome: str  # "expired", "held", "kept", "no manifest"
    objects: int = 0
    data_key_destroyed: bool = False


async def expire_exports(store: ObjectStore, keys: KeyStore, audit: AuditLog, now: datetime,
                         dry_run: bool = False, table: ArchiveTable | None = None) -> list[Expiry]:
    """Delete every complete export whose retention has run out and that has no legal hold; with the Iceberg
    `table`, its files leave the table first, so that the table never names a deleted file."""
    results = []
    async for folder in complete_exports(store):
        export_id, manifest = folder.export_id, folder.manifest
        if manifest is None:
            results.append(Expiry(export_id=export_id, expires_at=None, outcome="no manifest"))
            continue
        expires_at = manifest.expires_at
        if expires_at is None or not past_retention(manifest, now):
            results.append(Expiry(export_id=export_id, expires_at=expires_at, outcome="kept"))
            continue
        if await store.exists(legal_hold_key(export_id)):
            results.append(Expiry(export_id=export_id, expires_at=expires_at, outcome="held"))
            continue
        objects = await store.keys(export_id)
        encryption = manifest.encryption
        shredded = False
        if not dry_run:
            # The audit entry first: a crash after it repeats the deletion, never leaves one unrecorded.
            await audit.append(f"expired:{export_id}", "export expired", export_id, {
                "expires_at": expires_at.isoformat(), "retention_days": manifest.retention_days,
                "objects": len(objects), "bytes": manifest.bytes,
                "data_key_id": encryption.data_key_id if encryption else None}, at=now)
            if encryption is not None:
                destroyed = await keys.destroy(export_id)
                shredded = bool(destroyed)
                await audit.append(f"shredded:{export_id}", "data key destroyed", export_id, {
                    "data_key_id": encryption.data_key_id, "was_present": shredded,
                    "key_objects": [keys.store.location(k) for k in destroyed]}, at=now)
            if table is not None:
                await table.remove_export(export_id)
            # The manifest goes last, so an interrupted deletion is found and finished by the next run.
            await store.delete([k for k in objects if not k.endswith("/manifest.json")])
            await store.delete([k for k in objects if k.endswith("/manifest.json")])
            log.info("export %s expired (%s): %d objects deleted%s", export_id, expires_at.isoformat(), len(objects),
                     ", data key destroyed" if shredded else "", extra={"export_id": export_id})
        results.append(Expiry(export_id=export_id, expires_at=expires_at, outcome="expired", objects=len(objects),
                              data_key_destroyed=shredded))
    return results


async def set_legal_hold(store: ObjectStore, audit: AuditLog, export_id: str, reason: str, now: datetime) -> None:
    hold = LegalHold(export_id=export_id, reason=reason, set_at=now)
    await store.put(legal_hold_key(export_id), msgspec.json.encode(hold))
    await audit.append(f"hold:{export_id}:{now.isoformat()}", "legal hold set", export_id, {"reason": reason}, at=now)


async def release_legal_hold(store: ObjectStore, audit: AuditLog, export_id: str, now: datetime) -> None:
    await store.delete([legal_hold_key(export_id)])
    await audit.append(f"release:{export_id}:{now.isoformat()}", "legal hold released", export_id, {}, at=now)


async def expire_periodically(store: ObjectStore, keys: KeyStore, audit: AuditLog, interval: float,
                              stop: asyncio.Event) -> None:
    """The archiver's optional task: expire every `interval` seconds until `stop`. A failing run is
    logged and tried again at the next interval."""
    while not stop.is_set():
        try:
            await expire_exports(store, keys, audit, datetime.now(UTC))
        except (StorageError, OSError) as exc:  # storage down: the next run tries again
            log.warning("expiry run failed: %s", exc)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
