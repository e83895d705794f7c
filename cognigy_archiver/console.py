"""What every command shares: ending with an error, loading the settings, running a coroutine against Kafka,
and opening the archive (its storage, key store, audit log and manifest trust).

Command modules import this one, never `cli.py`. The archive's modules (storage backends, encryption) and
asyncio are imported when a command uses them: the CLI imports this module for every command."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from shared.errors import ArchiverError, ConfigError
from shared.settings import Settings, env_name, load_settings

if TYPE_CHECKING:
    from shared.archive.audit import AuditLog
    from shared.archive.keystore import KeyStore
    from shared.archive.manifest import ManifestTrust
    from shared.archive.storage import ObjectStore

T = TypeVar("T")


def fail(error: ArchiverError, as_json: bool = False) -> NoReturn:
    """End the command with exit code 2: the error as JSON on stderr, or its message and each problem."""
    if as_json:
        typer.echo(json.dumps(error.to_dict()), err=True)
    else:
        typer.secho(f"error: {error.message}", fg="red", err=True)
        for p in error.details.get("problems", []):
            typer.echo(f"  - {p['field']}: {p['problem']}", err=True)
    raise typer.Exit(2)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ArchiverError as exc:
        fail(exc)


def kafka_unreachable(settings: Settings) -> ArchiverError:
    where = settings.kafka.bootstrap_servers
    if settings.kafka.security_protocol.upper().startswith("SASL_"):
        # aiokafka reports a refused login as a failed bootstrap; say both, and what was tried.
        tls = settings.kafka.security_protocol.upper() == "SASL_SSL"
        checks = "mechanism, password and CA_KAFKA_SSL_CAFILE" if tls else "mechanism and password"
        return ArchiverError(f"cannot connect or authenticate to Kafka at {where} "
                             f"({settings.kafka.security_protocol}, {settings.kafka.sasl_mechanism}, user "
                             f"{settings.kafka.sasl_username!r}): check the address, {checks}")
    if settings.kafka.security_protocol.upper() == "SSL":
        return ArchiverError(f"cannot connect to Kafka at {where} over TLS: check the address, and that "
                             "CA_KAFKA_SSL_CAFILE names the CA that signed the broker's certificate")
    return ArchiverError(f"cannot reach Kafka at {where}: is it running? "
                         "(`cognigy-archiver kafka start`, or set CA_KAFKA_BOOTSTRAP_SERVERS)")


def run_async(coro: Coroutine[Any, Any, T], settings: Settings) -> T:
    """Run `coro`; a broker that cannot be reached ends the command with `kafka_unreachable`."""
    import asyncio

    from aiokafka.errors import KafkaConnectionError

    try:
        return asyncio.run(coro)
    except KafkaConnectionError:
        fail(kafka_unreachable(settings))


def with_archive(settings: Settings, work: Callable[[ObjectStore, KeyStore], Awaitable[T]]) -> T:
    """Run `work` on the archive storage and the key store the settings name; an ArchiverError ends the
    command with its message."""
    import asyncio

    from shared.archive.keystore import open_key_store
    from shared.archive.storage import open_store

    if settings.archive.backend != "s3" and not settings.archive.path.is_dir():
        # A mistyped path must not read as an empty archive: "nothing held for this person" would be false,
        # and the audit copy would create the directory.
        fail(ConfigError(f"no archive at {settings.archive.path} ({env_name('archive.dir')}): check the path"))

    async def run() -> T:
        async with open_store(settings) as store, open_key_store(settings) as keys:
            return await work(store, keys)

    try:
        return asyncio.run(run())
    except ArchiverError as exc:
        fail(exc)


def with_store(settings: Settings, work: Callable[[ObjectStore], Awaitable[T]]) -> T:
    """`with_archive` for work that needs the storage alone."""
    return with_archive(settings, lambda store, _keys: work(store))


def audit_log(settings: Settings, store: ObjectStore) -> AuditLog:
    from shared.archive.audit import AuditLog

    settings.require("audit.hmac_key")
    return AuditLog(Path(settings.audit.log_path), settings.audit.hmac_key.reveal().encode(), store)


async def manifest_trust(settings: Settings, store: ObjectStore) -> ManifestTrust:
    """What tells an authentic manifest: the audit key, and the audit log (or its storage copy)."""
    from shared.archive.manifest import ManifestTrust

    settings.require("audit.hmac_key")
    return await ManifestTrust.load(settings.audit.hmac_key.reveal().encode(), Path(settings.audit.log_path), store)
