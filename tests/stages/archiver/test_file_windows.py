"""Where the archiver cuts Parquet files, as pure decisions over offsets: a replay from any committed offset
cuts the same chunks, memory stays within one window, and what is committed never skips a held page."""

from __future__ import annotations

import random

import pytest

from stages.archiver.file_windows import Chunk, PartitionWindows

Event = tuple[int, str, str]  # (offset, export, "page" | "total")


def feed(windows: PartitionWindows[int], events: list[Event],
         committed: list[int] | None = None) -> list[tuple[str, list[int]]]:
    """Run the records through; the chunks closed (export, page offsets); each commit after a record."""
    closed: list[Chunk[int]] = []
    for offset, export, kind in events:
        closed += windows.advance(offset)
        closed += windows.add(export, offset, offset, 10) if kind == "page" else windows.finish(export)
        commit = windows.commit_offset(offset + 1)
        assert all(o >= commit for c in windows.open.values() for o, _ in c.pages), "a held page behind the commit"
        if committed is not None:
            committed.append(commit)
    return [(c.export_id, [o for o, _ in c.pages]) for c in closed]


def test_chunks_close_at_the_window_end_the_target_size_and_the_export_total() -> None:
    windows: PartitionWindows[int] = PartitionWindows(window=10, target_bytes=30)
    events: list[Event] = [(0, "a", "page"), (1, "b", "page"), (2, "a", "page"), (3, "a", "page"),  # a: 3 pages
                           (4, "a", "page"), (5, "b", "total"), (12, "a", "page"), (13, "a", "total")]
    assert feed(windows, events) == [("a", [0, 2, 3]), ("b", [1]), ("a", [4]), ("a", [12])]
    assert windows.open == {}


def test_commits_stay_at_the_window_start_while_a_chunk_is_open() -> None:
    windows: PartitionWindows[int] = PartitionWindows(window=10, target_bytes=1000)
    committed: list[int] = []
    feed(windows, [(20, "a", "page"), (21, "a", "total"), (22, "b", "page"), (31, "b", "total")], committed)
    # a closed: everything so far may commit; b open: back to its window's start; b's window closed: all.
    assert committed == [20, 22, 20, 32]


@pytest.mark.parametrize("seed", range(20))
def test_a_replay_from_any_committed_offset_cuts_the_same_chunks(seed: int) -> None:
    rng = random.Random(seed)
    events: list[Event] = []
    open_exports: set[str] = set()
    for offset in range(rng.randrange(50, 200)):
        export = rng.choice("abcd")
        if export in open_exports and rng.random() < 0.1:
            events.append((offset, export, "total"))
            open_exports.discard(export)
        else:
            events.append((offset, export, "page"))
            open_exports.add(export)
    window, target = rng.randrange(3, 40), rng.randrange(20, 200)
    committed: list[int] = []
    first_run = feed(PartitionWindows(window, target), events, committed)
    for offset in committed:
        # A crash after any record: a new process reads from the offset committed then, and cuts the chunks
        # from there exactly as the first run did (none of them straddles that offset).
        replay = feed(PartitionWindows(window, target), [e for e in events if e[0] >= offset])
        assert not [chunk for chunk in first_run if chunk[1][0] < offset <= chunk[1][-1]], "a chunk split"
        assert replay == [chunk for chunk in first_run if chunk[1][0] >= offset]


def test_memory_is_one_window_of_pages_per_partition() -> None:
    windows: PartitionWindows[int] = PartitionWindows(window=100, target_bytes=10**9)
    most = 0
    for offset in range(1000):  # many exports, none ever finishing
        windows.advance(offset)
        windows.add(f"e{offset % 7}", offset, offset, 1)
        most = max(most, sum(len(c.pages) for c in windows.open.values()))
    assert most == 100
