"""Where pages come from, chosen per export: Cognigy's export-job API, OData `Conversations`, or the REST
API's per-session conversations."""

from __future__ import annotations

from shared.messages import SourceName
from shared.settings import Settings
from stages.fetcher.api_client import ApiClient
from stages.fetcher.sources.base import JobProgress, Source
from stages.fetcher.sources.export_job import ExportJobSource
from stages.fetcher.sources.odata import ODataSource
from stages.fetcher.sources.rest import RestSource

__all__ = ["ExportJobSource", "JobProgress", "ODataSource", "RestSource", "Source", "open_source"]


def open_source(name: SourceName, api: ApiClient, settings: Settings) -> Source:
    if name == "odata":
        return ODataSource(api, settings)
    if name == "rest":
        return RestSource(api, settings)
    return ExportJobSource(api, settings)
