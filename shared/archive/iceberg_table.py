"""The optional Apache Iceberg table over the Parquet archive (docs/archive-format.md, "Iceberg table").

Each complete Parquet export's files, the keys its manifest lists, are committed to one Iceberg table where
they lie (`add_files`: no copy), partitioned by day(`timestamp`), which is the archive's own cut (a file holds
the records of one UTC date of `timestamp`; a file of records without one has a null partition).

Exactly once. What the table should hold of an export is its manifest's files; what it holds is read from the
table's current snapshot (the files under the export's folder). A commit changes only the difference, in one
snapshot: a first commit adds every file, a replay finds nothing to do, an erasure's rewrite (`.e<n>.parquet`
for a file) replaces the old file by the new in one overwrite, an expiry removes them all. Nothing is kept
beside the table to say what was committed, so a crash between the catalog's commit and anything after it
cannot leave a second copy behind. pyiceberg's own retry of a conflicting commit is turned off
(`commit.retry.num-retries` 0), as it would re-apply the same appends on top of a concurrent writer's; ours
re-reads the table and commits what is still missing. The snapshot carries the export id in its summary
(`cognigy-archiver.export-id`), for people reading the table's history.

Removed files must not stay reachable: after a snapshot that removed files, every snapshot before it is
expired (checked at every commit, so a crash between the two is healed by the next one), and old metadata files
are deleted after each commit. The table's manifests hold no record values: column metrics are counts only,
with bounds on `timestamp` alone, for pruning.

Encrypted exports are not committed. Their files use Parquet modular encryption with each file's key in its
own footer, which no Iceberg reader (pyiceberg, Spark, Trino) can open: Iceberg's own encryption keeps keys
in the table's metadata instead. So `open_table` refuses settings that encrypt the archive, and an encrypted
export found in an archive (encrypted before the setting changed) is skipped with a log line.

pyiceberg is blocking: every method that reaches the catalog or storage runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchNamespaceError, NoSuchTableError
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.manifest import DataFile, ManifestContent
from pyiceberg.table import Table, TableProperties
from pyiceberg.transforms import DayTransform

from shared.archive.manifest import Manifest, ManifestReader, complete_exports, past_retention, read_manifest
from shared.archive.parquet_records import SCHEMA, STATISTICS
from shared.archive.segments import legal_hold_key
from shared.archive.storage import FilesystemStore, ObjectStore
from shared.errors import ArchiverError, ConfigError
from shared.settings import Settings, env_name

log = logging.getLogger(__name__)
EXPORT_PROPERTY = "cognigy-archiver.export-id"
PARTITION = "conversation_date"
_ATTEMPTS = 4  # commits tried against concurrent writers before giving up (retriable: the next run goes on)
_METRICS = TableProperties.METRICS_MODE_COLUMN_CONF_PREFIX
_TABLE_PROPERTIES = {
    TableProperties.COMMIT_NUM_RETRIES: "0",
    TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED: "true",
    TableProperties.METADATA_PREVIOUS_VERSIONS_MAX: "10",
    # Counts, and bounds on `timestamp` only; nothing for the columns the files keep no statistics of.
    TableProperties.DEFAULT_WRITE_METRICS_MODE: "counts",
    f"{_METRICS}.timestamp": "full",
    **{f"{_METRICS}.{field.name}": "none" for field in SCHEMA if field.name not in STATISTICS},
}


class IcebergError(ArchiverError):
    """The Iceberg table refused a commit, or a file to commit is not what the table holds."""

    code = "iceberg_error"


class IcebergUnavailable(IcebergError):
    """The catalog or the storage could not be reached, or other writers kept winning: try again."""

    code = "iceberg_unavailable"
    retriable = True


Outcome = Literal["added", "replaced", "removed", "unchanged", "skipped"]


class TableChange(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    export_id: str
    outcome: Outcome
    added: int = 0  # files
    removed: int = 0
    reason: str = ""  # why skipped


class ArchiveTable:
    """One Iceberg table over the archive in `store`; its methods are coroutines."""

    def __init__(self, table: Table, store: ObjectStore) -> None:
        self._table = table
        self._store = store
        self._base = file_location(store, "x")[:-1]  # where every key's location starts
        self._files: dict[str, dict[str, DataFile]] | None = None

    @property
    def table(self) -> Table:
        return self._table

    async def commit_export(self, manifest: Manifest) -> TableChange:
        """Make the table hold exactly the export's files (module docstring: once, whatever happened before)."""
        if manifest.format != "parquet":
            return TableChange(export_id=manifest.export_id, outcome="skipped",
                               reason=f"{manifest.format}, not parquet")
        if manifest.encryption is not None:
            log.warning("export %s: not committed to the Iceberg table: its Parquet files are encrypted, which "
                        "Iceberg readers cannot open", manifest.export_id, extra={"export_id": manifest.export_id})
            return TableChange(export_id=manifest.export_id, outcome="skipped", reason="encrypted")
        wanted = {file_location(self._store, segment.key) for segment in manifest.segments}
        return await asyncio.to_thread(self._reconcile, manifest.export_id, wanted)

    async def remove_export(self, export_id: str) -> TableChange:
        """Remove the export's files from the table (before they are deleted from the archive)."""
        return await asyncio.to_thread(self._reconcile, export_id, set())

    async def export_ids(self) -> set[str]:
        """The exports the table holds files of."""
        return set(await asyncio.to_thread(self._current_files))

    def _reconcile(self, export_id: str, wanted: set[str]) -> TableChange:
        for _ in range(_ATTEMPTS):
            held = self._current_files().get(export_id, {})
            add = sorted(wanted - held.keys())
            drop = [held[path] for path in sorted(held.keys() - wanted)]
            if not add and not drop:
                self._expire_removed()
                return TableChange(export_id=export_id, outcome="unchanged")
            try:
                self._commit(export_id, add, drop)
            except CommitFailedException:
                log.info("export %s: another writer committed to the Iceberg table first; reading it again",
                         export_id, extra={"export_id": export_id})
                self._refresh()
                continue
            self._refresh()
            self._expire_removed()
            outcome: Outcome = "removed" if not wanted else "replaced" if drop else "added"
            log.info("export %s: %s in the Iceberg table (%d files added, %d removed)", export_id, outcome,
                     len(add), len(drop), extra={"export_id": export_id})
            return TableChange(export_id=export_id, outcome=outcome, added=len(add), removed=len(drop))
        raise IcebergUnavailable(f"export {export_id}: other writers committed to the Iceberg table {_ATTEMPTS} "
                                 "times in a row; run again")

    def _commit(self, export_id: str, add: list[str], drop: list[DataFile]) -> None:
        summary = {EXPORT_PROPERTY: export_id}
        try:
            with self._table.transaction() as tx:
                if not drop:
                    tx.add_files(add, snapshot_properties=summary)
                    return
                with tx.update_snapshot(snapshot_properties=summary).overwrite() as overwrite:
                    for data_file in drop:
                        overwrite.delete_data_file(data_file)
                    for path in add:
                        overwrite.append_data_file(parquet_file_to_data_file(self._table.io, tx.table_metadata, path))
        except FileNotFoundError:
            raise IcebergError(f"export {export_id}: a file its manifest lists is missing from the archive (check "
                               f"it with `cognigy-archiver archive verify {export_id}`)") from None
        except OSError as exc:
            raise IcebergUnavailable(f"export {export_id}: cannot read its files for the Iceberg table: "
                                     f"{exc.strerror or exc}") from None
        except ValueError as exc:  # pyiceberg's schema and duplicate checks (its ValidationError included)
            raise IcebergError(f"export {export_id}: the Iceberg table refused its files: {exc}") from None

    def _current_files(self) -> dict[str, dict[str, DataFile]]:
        """The data files of the current snapshot, by export and location; files of other folders (not ours)
        are left out, and so never touched."""
        if self._files is None:
            files: dict[str, dict[str, DataFile]] = {}
            for data_file in _data_files(self._table):
                path = data_file.file_path
                if path.startswith(self._base):
                    files.setdefault(path[len(self._base):].split("/", 1)[0], {})[path] = data_file
            self._files = files
        return self._files

    def _refresh(self) -> None:
        self._table.refresh()
        self._files = None

    def _expire_removed(self) -> None:
        """Expire every snapshot older than the last one that removed files, so that no snapshot references a
        removed file (an erased record's, an expired export's)."""
        snapshots = sorted(self._table.metadata.snapshots, key=lambda s: s.sequence_number or 0)
        removals = [n for n, s in enumerate(snapshots) if s.summary and int(s.summary["deleted-data-files"] or 0)]
        if not removals or removals[-1] == 0:
            return
        self._table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in snapshots[:removals[-1]]]).commit()
        self._refresh()


def _data_files(table: Table) -> Iterable[DataFile]:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return
    for manifest in snapshot.manifests(table.io):
        if manifest.content == ManifestContent.DATA:
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                yield entry.data_file


def file_location(store: ObjectStore, key: str) -> str:
    """The URI an Iceberg table names an archive object by: s3://... or file://... (not percent-encoded, as
    pyiceberg and Hadoop's paths take it: the keys' `+` and `=` stay as they are)."""
    location = store.location(key)
    return f"file://{Path(location).resolve()}" if isinstance(store, FilesystemStore) else location


# --- opening ----------------------------------------------------------------------------------------------


def check_iceberg_settings(settings: Settings) -> None:
    """Refuse what cannot work (module docstring: encrypted archives)."""
    iceberg = settings.iceberg
    if iceberg.catalog == "none":
        raise ConfigError(f"no Iceberg catalog configured: set {env_name('iceberg.catalog')} to sql, rest or glue")
    if settings.archive.encryption != "none":
        raise ConfigError(f"{env_name('iceberg.catalog')} is set, but {env_name('archive.encryption')} encrypts "
                          "the archive's Parquet files, which Iceberg readers cannot decrypt: use one or the other")
    if iceberg.catalog == "rest" and not iceberg.catalog_uri:
        raise ConfigError(f"{env_name('iceberg.catalog_uri')} must name the REST catalog's URL")


def _catalog(settings: Settings) -> Catalog:
    iceberg, s3 = settings.iceberg, settings.archive.s3
    warehouse = iceberg.warehouse
    if "://" not in warehouse:
        Path(warehouse).mkdir(parents=True, exist_ok=True)
        warehouse = Path(warehouse).resolve().as_uri()
    properties = {"type": iceberg.catalog, "warehouse": warehouse}
    if iceberg.catalog == "sql":
        local = Path(iceberg.warehouse).resolve() / "catalog.db" if "://" not in iceberg.warehouse else None
        if not iceberg.catalog_uri and local is None:
            raise ConfigError(f"{env_name('iceberg.catalog_uri')} must name the SQL catalog's database when "
                              f"{env_name('iceberg.warehouse')} is not a local folder")
        properties["uri"] = iceberg.catalog_uri or f"sqlite:///{local}"
    elif iceberg.catalog == "rest":
        properties["uri"] = iceberg.catalog_uri
    optional = {"credential": iceberg.rest_credential.reveal(), "token": iceberg.rest_token.reveal(),
                "glue.region": iceberg.glue_region if iceberg.catalog == "glue" else "",
                # the archive's files are read where they are, with the archive's S3 settings
                "s3.endpoint": s3.endpoint_url, "s3.region": s3.region, "s3.access-key-id": s3.access_key_id,
                "s3.secret-access-key": s3.secret_access_key.reveal()}
    properties.update({name: value for name, value in optional.items() if value})
    return load_catalog("cognigy-archiver", **properties)


def _open(settings: Settings) -> Table:
    catalog = _catalog(settings)
    identifier = (settings.iceberg.namespace, settings.iceberg.table)
    try:
        table = catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        catalog.create_namespace_if_not_exists(settings.iceberg.namespace)
        try:
            # One transaction: never a table without its partitioning.
            with catalog.create_table_transaction(identifier, schema=SCHEMA, properties=_TABLE_PROPERTIES) as tx:
                with tx.update_spec() as spec:
                    spec.add_field("timestamp", DayTransform(), PARTITION)
                # The archive's files carry no Iceberg field ids: readers map their columns by name.
                tx.set_properties({TableProperties.DEFAULT_NAME_MAPPING:
                                   tx.table_metadata.schema().name_mapping.model_dump_json()})
        except CommitFailedException:
            pass  # another process created it first
        table = catalog.load_table(identifier)
    if any(_missing(table, field.name) for field in SCHEMA):
        # A newer records schema's new nullable columns (compatible: docs/archive-format.md, versions).
        with table.update_schema() as update:
            update.union_by_name(SCHEMA)
    return table


def _missing(table: Table, name: str) -> bool:
    try:
        table.schema().find_field(name)
    except ValueError:
        return True
    return False


async def open_table(settings: Settings, store: ObjectStore) -> ArchiveTable:
    """The table the settings name, created if it is not there yet (ConfigError for settings that cannot work)."""
    check_iceberg_settings(settings)
    try:
        table = await asyncio.to_thread(_open, settings)
    except (OSError, CommitFailedException) as exc:
        raise IcebergUnavailable(f"cannot open the Iceberg table: {exc}") from None
    return ArchiveTable(table, store)


# --- the archive ------------------------------------------------------------------------------------------


async def sync_archive(store: ObjectStore, table: ArchiveTable, now: datetime,
                       read: ManifestReader = read_manifest) -> list[TableChange]:
    """Commit every complete export not yet (or no longer exactly) in the table; remove the exports whose folder
    is gone from the archive. An export past its retention and not on hold is left to `archive expire`, which
    removes it from the table before deleting its files; one whose manifest `read` refuses is left as it is."""
    changes, folders = [], set()
    async for folder in complete_exports(store, read):
        folders.add(folder.export_id)
        manifest = folder.manifest
        if manifest is None:
            if folder.refused:
                log.warning("export %s: not committed to the Iceberg table, its manifest is not authentic: %s",
                            folder.export_id, folder.refused.message, extra={"export_id": folder.export_id})
            continue
        if past_retention(manifest, now) and not await store.exists(legal_hold_key(manifest.export_id)):
            changes.append(TableChange(export_id=manifest.export_id, outcome="skipped",
                                       reason="past its retention: `archive expire` deletes it"))
            continue
        changes.append(await table.commit_export(manifest))
    for export_id in sorted(await table.export_ids() - folders):
        changes.append(await table.remove_export(export_id))
    return changes
