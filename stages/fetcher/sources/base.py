"""The interface every source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from shared.errors import SourceError
from shared.messages import ExportRequest
from stages.fetcher.pages import Pages


@dataclass(frozen=True)
class JobProgress:
    ready: bool
    percent: int


class Source(Protocol):
    async def prepare(self, request: ExportRequest) -> str:
        """Ask the server to prepare the export (an export job); returns its id, or "" if there is none.
        Called once per export: the id is checkpointed before any page is fetched."""
        ...

    async def progress(self, job_id: str) -> JobProgress:
        """Whether the prepared export can be paged yet; raises ExportJobFailed if it never will."""
        ...

    def pages(self, request: ExportRequest, job_id: str, resume_token: str | None) -> Pages:
        """The pages from `resume_token` (None: the first) to the last, in order."""
        ...


class ClientSidePaging:
    """For sources with no server-side job: ready at once."""

    async def prepare(self, request: ExportRequest) -> str:
        return ""

    async def progress(self, job_id: str) -> JobProgress:
        return JobProgress(ready=True, percent=100)


def url_segment(value: str, what: str) -> str:
    """`value` (an id from a request or from the source) as one URL path segment: percent-encoded, so a '/'
    cannot start another, and never '.' or '..', which the client would resolve to another path."""
    if value in ("", ".", ".."):
        raise SourceError(f"{what} {value!r} cannot name a URL path segment")
    return quote(value, safe="")
