"""The pool of PII detection workers: same results as one process, survives a dead worker, ignores the
signals the stage handles, and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stages.sanitizer.analyzer import PiiAnalyzer
from stages.sanitizer.detector import DetectionOptions, TextItem
from stages.sanitizer.pool import DetectorPool, WorkerCrashed, shares_of, worker_count

from .conversation import typical_records


def workers_of(pid: int) -> set[int]:
    """The pool workers among the children of `pid` (not multiprocessing's resource tracker)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in command:
            found.add(int(stat.parent.name))
    return found


def wait_for(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def pool() -> Iterator[DetectorPool]:
    pool = DetectorPool(2, {}, DetectionOptions(("US", "GB"), ("Acme Retail",)))
    yield pool
    pool.close()


def test_the_same_text_always_goes_to_the_same_worker() -> None:
    items = [TextItem(f"text {n % 150}") for n in range(300)]
    shares = shares_of(items, 3)
    assert sorted(i for share in shares for i in share) == list(range(300))
    for share in shares:
        assert share == sorted(share)
        assert all(i + 150 in share for i in share if i < 150)  # each text's second copy goes with it
        assert len(share) > 60  # about a third each
    assert shares_of([], 2) == [[], []]


def test_worker_count() -> None:
    assert worker_count(3) == 3
    assert 1 <= worker_count(0) <= len(os.sched_getaffinity(0))


def test_the_pool_finds_what_one_process_finds() -> None:
    records = typical_records(300)
    local = PiiAnalyzer("auto", workers=1)
    pooled = PiiAnalyzer("auto", workers=2)
    try:
        assert pooled.analyze_records(records, []) == local.analyze_records(records, [])
    finally:
        pooled.close()


def test_a_dead_worker_fails_one_call_and_the_pool_recovers(pool: DetectorPool) -> None:
    items = [TextItem("call me on +1 415 555 0143"), TextItem("jane@example.com")]
    assert [len(found) for found in pool.detect(items, [])] == [1, 1]
    victim = min(workers_of(os.getpid()))
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        for _ in range(20):  # the pool notices the death on its next call
            pool.detect(items, [])
            time.sleep(0.1)
    assert [len(found) for found in pool.detect(items, [])] == [1, 1]


def test_workers_ignore_sigint_and_go_when_the_pool_closes() -> None:
    before = workers_of(os.getpid())
    pool = DetectorPool(2, {}, DetectionOptions(("US",)))
    workers = workers_of(os.getpid()) - before
    assert len(workers) == 2
    try:
        for pid in workers:
            os.kill(pid, signal.SIGINT)  # what Ctrl-C sends the whole process group
        assert pool.detect([TextItem("jane@example.com")], []) != [[]]
    finally:
        pool.close()
    assert wait_for(lambda: not (workers & workers_of(os.getpid())))


def test_a_broken_pool_leaves_no_worker_behind() -> None:
    before = workers_of(os.getpid())
    pool = DetectorPool(2, {}, DetectionOptions(("US",)))
    first = workers_of(os.getpid()) - before
    try:
        os.kill(min(first), signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            for _ in range(20):
                pool.detect([TextItem("jane@example.com")], [])
                time.sleep(0.1)
        assert wait_for(lambda: not (first & workers_of(os.getpid())))  # the survivor was ended too
    finally:
        pool.close()


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "import time\n"
        "from stages.sanitizer.detector import DetectionOptions\n"
        "from stages.sanitizer.pool import DetectorPool\n"
        "pool = DetectorPool(2, {}, DetectionOptions(('US',)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[3])
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "ready"
    workers = workers_of(parent.pid)
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    assert wait_for(lambda: not any(running(pid) for pid in workers))


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's new parent may be slow to reap it, or never do)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
