"""The NER models in a helper process, so that spaCy works on the second core while this process reads its
input and runs the recognizers: importing spaCy takes half a second, loading the English model a third, and
running it costs about as much as all the recognizers together. spaCy holds the GIL while it runs, so a
thread would not overlap it with anything.

The helper is a child Python that imports spaCy and loads the English model (if it has one) at once, then
answers requests in order: the texts of each language in, their entities out CHUNK texts at a time (so
that this process can go on with the first texts while the model reads the others), msgpack frames on its
stdin and stdout. It exits when its stdin closes, so it never outlives the process that started it. Start it
as early as possible: a process that sanitizes a few thousand lines and exits gains most (the CLI).
Nothing here logs a text."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO

import msgspec

from shared.errors import ArchiverError, ConfigError
from stages.sanitizer.ner import Entities, NerModels, Pending, check_installed

# The child finds this package where the parent found it (a source tree, a virtualenv, an installed wheel).
_BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
         "from stages.sanitizer.ner_process import serve; serve(json.loads(sys.argv[2]))")
_LENGTH = struct.Struct(">I")
CHUNK = 64  # texts per reply; spaCy finds the same entities in any batch, and is barely slower in these


class _Reply(msgspec.Struct):
    """The entities of the next texts of `language`, or why there are none (the request ends there)."""

    language: str = ""
    entities: list[Entities] = []
    error: str = ""


_requests = msgspec.msgpack.Decoder(dict[str, list[str]])
_replies = msgspec.msgpack.Decoder(_Reply)


class NerProcess:
    """A `ner.NerRunner` whose models run in a child process. One caller at a time."""

    def __init__(self, names: dict[str, str]) -> None:
        """Starts the child. Raises ConfigError if a package is not installed (one that is installed but does
        not load fails the first request)."""
        check_installed(names)
        self.names = dict(names)
        self._child = subprocess.Popen([sys.executable, "-c", _BOOT, json.dumps(sys.path), json.dumps(self.names)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._pending: Pending | None = None  # the replies to the last request, until all are read

    def submit(self, texts: Mapping[str, Sequence[str]]) -> Pending:
        if self._pending is not None:  # replies nobody read would answer this request
            for _ in self._pending:
                pass
        request = msgspec.msgpack.encode(texts)
        # A pipe holds 64 KiB: a longer request waits for the child to read it, which it does only once it has
        # loaded spaCy. Another thread writes, and this one goes on with the recognizers.
        sender = threading.Thread(target=self._send, args=(request,), daemon=True)
        sender.start()
        self._pending = self._replies(sum(map(len, texts.values())), sender)
        return self._pending

    def close(self) -> None:
        """Stops the child at once: it has nothing to finish (maybe a model still loading, replies nobody will
        read)."""
        self._child.terminate()
        for pipe in (self._child.stdin, self._child.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._child.wait()
        self._pending = None

    def _replies(self, count: int, sender: threading.Thread) -> Pending:
        assert self._child.stdout is not None, "started with stdout=PIPE"
        while count > 0:
            frame = _read(self._child.stdout)
            if frame is None:
                self._pending = None
                raise ArchiverError(f"the NER process ended (exit status {self._child.wait()})")
            reply = _replies.decode(frame)
            if reply.error:  # the last reply to this request
                self._pending = None
                raise ConfigError(reply.error)
            count -= len(reply.entities)
            yield reply.language, reply.entities
        sender.join()
        self._pending = None

    def _send(self, request: bytes) -> None:
        assert self._child.stdin is not None, "started with stdin=PIPE"
        with contextlib.suppress(OSError):  # the child died: its stdout ends, and `_replies` says so
            self._child.stdin.write(_LENGTH.pack(len(request)) + request)
            self._child.stdin.flush()


def serve(names: dict[str, str]) -> None:
    """The child's loop: requests from stdin, replies to stdout, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what a library prints must not break a frame
    requests = sys.stdin.buffer
    models = NerModels(names)
    failure = ""
    try:
        if "en" in names:
            models.get("en")  # now, while the parent reads its input (others load on first use, as in-process)
    except ConfigError as exc:
        failure = exc.message
    with contextlib.suppress(BrokenPipeError):  # the parent stopped reading: nobody is left to answer
        while (frame := _read(requests)) is not None:
            try:
                if failure:
                    raise ConfigError(failure)
                for language, texts in _requests.decode(frame).items():
                    for start in range(0, len(texts), CHUNK):
                        for _, found in models.submit({language: texts[start : start + CHUNK]}):
                            _write(replies, _Reply(language, found))
            except ConfigError as exc:
                _write(replies, _Reply(error=exc.message))
    # Nothing is left to flush but stderr: exit without tearing spaCy's objects down one by one, which takes
    # longer than the last request (the parent waits for it, and whatever reads our stderr too).
    sys.stderr.flush()
    os._exit(0)


def _write(stream: IO[bytes], reply: _Reply) -> None:
    message = msgspec.msgpack.encode(reply)
    stream.write(_LENGTH.pack(len(message)) + message)
    stream.flush()


def _read(stream: IO[bytes]) -> bytes | None:
    """One frame, or None at the end of the stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    body = stream.read(length)
    return body if len(body) == length else None
