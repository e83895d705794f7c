"""Where the archiver cuts Parquet files: decisions over input offsets only, so a replay cuts the same files.

Each input partition is divided into windows of `window` offsets (offset // window). The Parquet pages of one
export read within one window make up its chunks: a chunk closes when its pages reach `target_bytes` (their
message sizes), when the export's total arrives on the partition (every page of it here has been read) or the
fetcher's pause marker (it gave up on the export part-way: a resubmission may never come), or when the window
ends (the first record of a later window). A closed chunk is written as one file per
conversation date.

The archiver commits, for each partition, the start of the window of its oldest open chunk (or, with none
open, the offset after the last record). A restart, a rebalance or a retried batch therefore reads again
from the start of a window, sees the same records in the same order, and closes the same chunks at the same
pages: the same files under the same keys. Memory is bounded by one window of pages per partition, whatever
the number of exports in it, and so is how far back a replay reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Page = TypeVar("Page")


@dataclass
class Chunk(Generic[Page]):
    """Pages of one export, in offset order, that go into the same files."""

    export_id: str
    first_offset: int
    pages: list[tuple[int, Page]] = field(default_factory=list)  # (input offset, page)
    size: int = 0  # bytes of the pages' messages


class PartitionWindows(Generic[Page]):
    """The open chunks of one input partition."""

    def __init__(self, window: int, target_bytes: int) -> None:
        if window < 1 or target_bytes < 1:
            raise ValueError("window and target_bytes must be positive")
        self.window = window
        self.target_bytes = target_bytes
        self.current: int | None = None  # the window of the last record seen
        self.open: dict[str, Chunk[Page]] = {}

    def advance(self, offset: int) -> list[Chunk[Page]]:
        """Called first for every record: the chunks a record at `offset` closes by starting a later window."""
        window = offset // self.window
        closed: list[Chunk[Page]] = []
        if self.current is not None and window != self.current:
            closed, self.open = list(self.open.values()), {}
        self.current = window
        return closed

    def add(self, export_id: str, offset: int, page: Page, size: int) -> list[Chunk[Page]]:
        """Add a page (after `advance`); the chunk it fills, if it reaches the target size."""
        chunk = self.open.get(export_id)
        if chunk is None:
            chunk = self.open[export_id] = Chunk(export_id, offset)
        chunk.pages.append((offset, page))
        chunk.size += size
        if chunk.size >= self.target_bytes:
            del self.open[export_id]
            return [chunk]
        return []

    def finish(self, export_id: str) -> list[Chunk[Page]]:
        """The export's total arrived (after `advance`): its open chunk, if any, closes."""
        chunk = self.open.pop(export_id, None)
        return [chunk] if chunk is not None else []

    def commit_offset(self, next_offset: int) -> int:
        """The offset to commit when the records before `next_offset` are processed: with chunks open, the
        start of their window, from where a replay rebuilds each exactly (this can be below an offset committed
        earlier in the window: the replay then also repeats chunks already written, under the same keys)."""
        if not self.open or self.current is None:
            return next_offset
        return self.current * self.window  # open chunks are all in the current window: the others closed
