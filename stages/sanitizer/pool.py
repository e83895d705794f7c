"""A pool of worker processes that find PII in texts, to use every core: NER and the recognizers are
CPU-bound Python, so threads would not help.

Workers are spawned, not forked: the stage has threads (asyncio's, aiokafka's) and forking a process
with threads can deadlock the child. Each worker loads the NER model once. Workers ignore SIGINT (Ctrl-C
reaches the whole process group; the parent decides when they stop, after the batch in flight) but not
SIGTERM, which the pool itself uses to end the survivors of a broken pool. A worker whose parent died
(SIGKILL, OOM) exits by itself within ORPHAN_CHECK_SECONDS. If a worker dies, the pool is replaced and the
call raises WorkerCrashed: the caller retries the same input (in the stage: the batch's transaction is
aborted and retried from the same offsets).

Each call has a deadline, DEADLINE_SECONDS plus a second per DEADLINE_CHARS_PER_SECOND characters of its
texts (a worker reads several times that many): a worker still busy past it is stuck, whatever on (user
patterns have their own time limit; this holds for anything), and waiting longer would stall every export
behind this one. Its workers are killed, the pool is replaced, and the call raises DetectionTimedOut: the
input, not the pool, is at fault, so the caller refuses it rather than retrying it."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import threading
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from shared.errors import ArchiverError
from shared.messages import PiiRule
from stages.sanitizer.detector import DEFAULT_OPTIONS, DetectionOptions, TextDetector, TextItem
from stages.sanitizer.ner import NerModels
from stages.sanitizer.recognizers.base import Detection

ORPHAN_CHECK_SECONDS = 1.0
DEADLINE_SECONDS = 60.0
DEADLINE_CHARS_PER_SECOND = 10_000
_worker_detector: TextDetector | None = None


class WorkerCrashed(ArchiverError):
    """A pool worker died mid-call; the pool was replaced and the call can be retried (the input is fine)."""

    code = "worker_crashed"
    retriable = True


class DetectionTimedOut(ArchiverError):
    """A call ran past its deadline; its workers were killed and the pool replaced. Retrying the same
    input would only stall again."""

    code = "detection_timeout"

    def __init__(self, seconds: float, texts: int) -> None:
        super().__init__(f"PII detection ran past its deadline of {seconds:.1f} s on {texts} texts; the "
                         "workers were restarted", details={"seconds": seconds, "texts": texts})


class DetectorPool:
    def __init__(self, workers: int, models: dict[str, str], options: DetectionOptions = DEFAULT_OPTIONS,
                 deadline_seconds: float = DEADLINE_SECONDS) -> None:
        """`workers` processes, each with a TextDetector of the spaCy packages `models` (language -> package,
        see `ner.resolve_models`) and `options`; `deadline_seconds`: each call's deadline before its texts
        are counted in (see the module)."""
        self.workers = workers
        self.deadline_seconds = deadline_seconds
        self._initargs = (os.getpid(), dict(models), options)
        self._executor, self._pids = self._start()

    def detect(self, items: Sequence[TextItem], rules: Sequence[PiiRule]) -> list[list[Detection]]:
        """TextDetector.detect, the items shared out among the workers (see `shares`). Raises what it raises
        in a worker, WorkerCrashed, or DetectionTimedOut."""
        found: list[list[Detection]] = [[] for _ in items]
        seconds = self.deadline_seconds + sum(len(item.text) for item in items) / DEADLINE_CHARS_PER_SECOND
        try:
            shares = [share for share in shares_of(items, self.workers) if share]
            futures = [self._executor.submit(_detect, [items[i] for i in share], tuple(rules)) for share in shares]
            if wait(futures, timeout=seconds).not_done:
                self._restart(kill=True)
                raise DetectionTimedOut(seconds, len(items))
            for share, future in zip(shares, futures, strict=True):
                for index, detections in zip(share, future.result(), strict=True):
                    found[index] = detections
            return found
        except BrokenProcessPool:
            self._restart(kill=False)
            raise WorkerCrashed("a PII detection worker died; the pool was restarted") from None

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> tuple[ProcessPoolExecutor, set[int]]:
        executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=self._initargs)
        # Every worker answers once now, so each has loaded the model before the first real call.
        ready: set[int] = set()
        while len(ready) < self.workers:
            ready.update(f.result() for f in [executor.submit(_ready) for _ in range(self.workers)])
        return executor, ready

    def _restart(self, kill: bool) -> None:
        if kill:
            # A stuck worker never reads the executor's shutdown request. Each pid is still ours: a worker
            # that died before would have broken the pool, which is then replaced with new workers.
            for pid in self._pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor, self._pids = self._start()


def worker_count(setting: int) -> int:
    """`setting` if positive, else the CPUs this process may use: its CPU affinity, capped by a cgroup v2
    CPU quota (a container limited to 2 CPUs on a 64-core node gets 2)."""
    if setting > 0:
        return setting
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cpus
    return cpus if quota == "max" else max(1, min(cpus, math.ceil(int(quota) / int(period))))


def shares_of(items: Sequence[TextItem], count: int) -> list[list[int]]:
    """The indices of `items` for each of `count` workers, by a hash of the text: the same text always
    goes to the same worker, whose cache then knows it (the bot's prompts repeat on every page)."""
    shares: list[list[int]] = [[] for _ in range(count)]
    for index, item in enumerate(items):
        shares[zlib.crc32(item.text.encode()) % count].append(index)
    return shares


def _start_worker(parent: int, models: dict[str, str], options: DetectionOptions) -> None:
    global _worker_detector
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # `parent` comes from the parent: by the time this runs, it may already be dead.
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    ner = NerModels(models)
    # The English model now, so that the worker is ready before its first page (others load on first use).
    ner.get("en")
    _worker_detector = TextDetector(ner, options)


def _exit_when_orphaned(parent: int) -> None:
    # The pool's queues are shared by all its processes, so a worker never sees its parent's death as an
    # end of input: it would wait forever.
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _ready() -> int:
    time.sleep(0.01)  # long enough that the other workers get a call too
    return os.getpid()


def _detect(items: Sequence[TextItem], rules: tuple[PiiRule, ...]) -> list[list[Detection]]:
    assert _worker_detector is not None, "the worker initializer sets the detector"
    return _worker_detector.detect(items, rules)
