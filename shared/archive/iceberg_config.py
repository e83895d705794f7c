"""The Iceberg table the settings name, if any (`CA_ICEBERG_CATALOG`): the optional `iceberg` extra is imported
only then, so everything else runs without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.archive.storage import ObjectStore
from shared.errors import ConfigError
from shared.settings import Settings, env_name

if TYPE_CHECKING:
    from shared.archive.iceberg_table import ArchiveTable


async def configured_table(settings: Settings, store: ObjectStore) -> ArchiveTable | None:
    """The Iceberg table over the archive, when the settings name a catalog."""
    if settings.iceberg.catalog == "none":
        return None
    try:
        from shared.archive.iceberg_table import open_table
    except ImportError:
        raise ConfigError(f"{env_name('iceberg.catalog')} is set, but pyiceberg is not installed: install "
                          "cognigy-archiver[iceberg]") from None
    return await open_table(settings, store)
