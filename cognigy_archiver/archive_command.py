"""`cognigy-archiver archive verify|expire|hold|release|rewrap` and `cognigy-archiver audit verify`: the
archive and its audit log, checked and kept on schedule, on whichever storage backend the settings name.

The archive's modules (storage backends, encryption, asyncio) are imported by the commands that use them:
the CLI imports this module for every command, `sanitize` too."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
import typer

from cognigy_archiver.console import (
    audit_log,
    fail,
    manifest_trust,
    settings_or_fail,
    with_archive,
    with_store,
)
from shared.archive.iceberg_config import configured_table
from shared.errors import ArchiverError, ConfigError, ValidationFailed
from shared.export_requests import parse_time
from shared.settings import Secret, Settings, env_name

if TYPE_CHECKING:
    from shared.archive.iceberg_table import TableChange
    from shared.archive.keystore import KeyStore
    from shared.archive.storage import ObjectStore

archive_app = typer.Typer(no_args_is_help=True, help="Verify the archive and delete what has expired.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the audit log.")


def _now_or(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_time(text, "now")
    except ValidationFailed:
        fail(ArchiverError(f"--now: {text!r} is not an ISO-8601 time"))


@archive_app.command("verify")
def archive_verify(export_id: str) -> None:
    """Check that the export's manifest is authentic (its HMAC, and the audit log's record of it) and whole
    (every page once), then re-read every object and check hashes, sizes and record counts against it (an
    encrypted export: over the stored bytes, and with the master key over the decrypted records too)."""
    from shared.archive.reader import VerifyReport, verify_export

    settings = settings_or_fail()
    try:
        settings.require("audit.hmac_key")
    except ArchiverError as exc:
        fail(exc)

    async def verify(store: ObjectStore, keys: KeyStore) -> VerifyReport:
        return await verify_export(store, export_id, keys, await manifest_trust(settings, store))

    report = with_archive(settings, verify)
    for problem in report.problems:
        typer.secho(f"  - {problem}", fg="red", err=True)
    if not report.ok:
        typer.secho(f"{export_id}: {len(report.problems)} problem(s)", fg="red", err=True)
        raise typer.Exit(1)
    if report.plaintext_checked:
        how = ", decrypted" if report.encrypted else ""
        typer.echo(f"{export_id}: OK, {report.segments} segments{how}, {report.records} records match the manifest")
    else:
        typer.echo(f"{export_id}: OK, {report.segments} encrypted segments match the manifest's hashes; records not "
                   f"checked (set {env_name('archive.master_key')} to decrypt and count them)")
    if report.authenticated:
        typer.echo(f"  manifest authentic: {report.authenticity}")
    else:
        typer.secho(f"  manifest {report.authenticity}", fg="yellow", err=True)


@archive_app.command("expire")
def archive_expire(
    now: Annotated[str | None, typer.Option(help="expire as of this ISO-8601 time (default: now)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be deleted, delete nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per export")] = False,
) -> None:
    """Delete every export whose retention has run out, unless it is under legal hold (audit-logged)."""
    from shared.archive.retention import Expiry, expire_exports

    settings = settings_or_fail()
    when = _now_or(now)

    async def expire(store: ObjectStore, keys: KeyStore) -> list[Expiry]:
        table = None if dry_run else await configured_table(settings, store)
        return await expire_exports(store, keys, audit_log(settings, store), when, dry_run, table)

    results = with_archive(settings, expire)
    for r in results:
        if as_json:
            typer.echo(json.dumps(msgspec.to_builtins(r)))
        else:
            until = f" (expires {r.expires_at:%Y-%m-%d %H:%M}Z)" if r.expires_at else ""
            verb = "would expire" if dry_run and r.outcome == "expired" else r.outcome
            shredded = ", data key destroyed" if r.data_key_destroyed else ""
            typer.echo(f"{verb:<12} {r.export_id}{until}" + (f", {r.objects} objects" if r.objects else "") + shredded)
    if not as_json:
        deleted = sum(r.outcome == "expired" for r in results)
        typer.echo(f"{deleted} export(s) {'to expire' if dry_run else 'expired'}, "
                   f"{sum(r.outcome == 'held' for r in results)} held")


@archive_app.command("iceberg-sync")
def archive_iceberg_sync(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per export changed or skipped")] = False,
) -> None:
    """Commit every complete Parquet export to the Iceberg table that CA_ICEBERG_* name, exactly once (a rerun
    changes nothing), replace the files an erasure rewrote, and remove exports no longer in the archive."""
    settings = settings_or_fail()
    try:
        settings.require("audit.hmac_key")
    except ArchiverError as exc:
        fail(exc)

    async def sync(store: ObjectStore) -> list[TableChange]:
        from shared.archive.iceberg_table import sync_archive

        table = await configured_table(settings, store)
        if table is None:
            raise ConfigError(f"no Iceberg table: set {env_name('iceberg.catalog')} (sql, rest or glue)")
        trust = await manifest_trust(settings, store)
        return await sync_archive(store, table, datetime.now(UTC), trust.manifest)

    changes = with_store(settings, sync)
    for change in changes:
        if as_json:
            typer.echo(json.dumps(msgspec.to_builtins(change)))
        elif change.outcome != "unchanged":
            detail = change.reason or f"{change.added} file(s) added, {change.removed} removed"
            typer.echo(f"{change.outcome:<10} {change.export_id}: {detail}")
    if not as_json:
        counts = {outcome: sum(c.outcome == outcome for c in changes)
                  for outcome in ("added", "replaced", "removed", "unchanged", "skipped")}
        typer.echo(", ".join(f"{n} {outcome}" for outcome, n in counts.items()))


@archive_app.command("hold")
def archive_hold(export_id: str, reason: Annotated[str, typer.Option(help="why (recorded in the audit log)")]) -> None:
    """Set a legal hold: `archive expire` keeps the export until the hold is released."""
    settings = settings_or_fail()
    with_store(settings, lambda store: _hold(settings, store, export_id, reason))
    typer.echo(f"{export_id}: legal hold set")


async def _hold(settings: Settings, store: ObjectStore, export_id: str, reason: str) -> None:
    from shared.archive.retention import set_legal_hold

    if not await store.keys(export_id):
        raise ArchiverError(f"no export {export_id!r} in the archive")
    await set_legal_hold(store, audit_log(settings, store), export_id, reason, datetime.now(UTC))


@archive_app.command("release")
def archive_release(export_id: str) -> None:
    """Release a legal hold."""
    from shared.archive.retention import release_legal_hold

    settings = settings_or_fail()
    with_store(settings, lambda store: release_legal_hold(store, audit_log(settings, store), export_id,
                                                           datetime.now(UTC)))
    typer.echo(f"{export_id}: legal hold released")


@archive_app.command("rewrap")
def archive_rewrap(
    old_key_file: Annotated[Path, typer.Option(help="file holding the old master key (base64 of 32 bytes)")],
    old_key_id: Annotated[str, typer.Option(help="the old master key's id")],
) -> None:
    """Rotate the master key: wrap every data key in the key store again with the master key the settings
    name (CA_ARCHIVE_MASTER_KEY, CA_ARCHIVE_MASTER_KEY_ID). Segments are untouched; rerun if interrupted."""
    from shared.archive.encryption import load_key_wrapper

    settings = settings_or_fail()
    try:
        archive = msgspec.structs.replace(settings.archive, master_key=Secret(old_key_file.read_text().strip()),
                                          master_key_id=old_key_id)
        old = load_key_wrapper(msgspec.structs.replace(settings, archive=archive))
    except OSError as exc:
        fail(ArchiverError(f"--old-key-file: cannot read {old_key_file}: {exc.strerror}"))
    except ArchiverError as exc:
        fail(exc)
    if old is None:
        fail(ArchiverError(f"--old-key-file: {old_key_file} is empty"))
    if not settings.archive.master_key or old.key_id == settings.archive.master_key_id:
        fail(ArchiverError("set the NEW master key in CA_ARCHIVE_MASTER_KEY(_FILE), with a new "
                           "CA_ARCHIVE_MASTER_KEY_ID"))

    async def rewrap(store: ObjectStore, keys: KeyStore) -> tuple[int, int]:
        done, already = await keys.rewrap(old)
        await audit_log(settings, store).append(f"rewrap:{old.key_id}:{settings.archive.master_key_id}:{done}",
                                                "master key rotated", "", {
                                                    "from": old.key_id, "to": settings.archive.master_key_id,
                                                    "data_keys": done, "already_rewrapped": already})
        return done, already

    done, already = with_archive(settings, rewrap)
    typer.echo(f"{done} data key(s) now wrapped by master key {settings.archive.master_key_id!r}"
               + (f" ({already} already were)" if already else "") + f"; the old key {old_key_id!r} can be retired")


@audit_app.command("verify")
def audit_verify(
    storage: Annotated[bool, typer.Option(help="also compare with the copy in the archive storage")] = True,
) -> None:
    """Check every entry's HMAC and the hash chain, and (with the storage) the storage copy, the signed
    head checkpoint and that every manifest in the archive is recorded; exits 1 on any edited, removed or
    reordered entry, and on a log truncated or emptied in both places."""
    from shared.archive.audit import verify_against_storage, verify_head, verify_lines
    from shared.archive.manifest import unrecorded_manifests

    settings = settings_or_fail()
    try:
        settings.require("audit.hmac_key")
    except ArchiverError as exc:
        fail(exc)
    path = Path(settings.audit.log_path)
    if not path.exists():
        fail(ArchiverError(f"no audit log at {path}"))
    key = settings.audit.hmac_key.reveal().encode()
    lines = path.read_bytes().splitlines()
    problems = verify_lines(lines, key)

    async def against_storage(store: ObjectStore) -> list[str]:
        return [*await verify_against_storage(path, store), *await verify_head(lines, store, key),
                *await unrecorded_manifests(store, lines, key)]

    if storage:
        problems += with_store(settings, against_storage)
    for problem in problems:
        typer.secho(f"  - {problem}", fg="red", err=True)
    entries = len(lines)
    if problems:
        typer.secho(f"{path}: {len(problems)} problem(s) in {entries} entries", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: OK, {entries} entries, chain and signatures intact" + (
        ", storage copy matches" if storage else ""))
    if storage:
        typer.echo("  its head checkpoint and every manifest in the archive agree: nothing was cut off the end")

