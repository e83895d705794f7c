"""Starting the simulator and the stages as separate OS processes, for the demo and the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.errors import ArchiverError


class ProcessGroup:
    """Child processes by name, each logging to `<log_dir>/<name>.log`."""

    def __init__(self, env: dict[str, str], log_dir: Path, stage_env: dict[str, dict[str, str]] | None = None) -> None:
        self.env = env
        self.stage_env = stage_env or {}  # per-process additions, e.g. each stage's health port
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = {**self.env, **self.stage_env.get(name, {})}
        with (self.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "cognigy_archiver.cli", *args], env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_stage(self, stage: str) -> subprocess.Popen[bytes]:
        return self.start(stage, "run", stage)

    def start_simulator(self, port: int, *args: str, timeout: float = 30.0) -> str:
        self.start("simulator", "simulate", "--port", str(port), *args)
        url = f"http://127.0.0.1:{port}"
        self._wait_for_line("simulator", "listening", timeout)
        return url

    def _wait_for_line(self, name: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log = self.log_dir / f"{name}.log"
        while time.monotonic() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if self.procs[name].poll() is not None:
                raise ArchiverError(f"{name} exited with {self.procs[name].returncode}; see {log}")
            time.sleep(0.1)
        raise ArchiverError(f"{name} did not start within {timeout:.0f}s; see {log}")

    def kill(self, name: str) -> None:
        """SIGKILL: what a crash or an OOM kill looks like."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self, name: str, timeout: float = 40.0) -> int:
        """SIGTERM and wait; returns the exit code (SIGKILL after the timeout)."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        return self._wait(proc, timeout)

    def stop_all(self, timeout: float = 40.0) -> dict[str, int]:
        """SIGTERM to all at once (as Kubernetes does), once each, then wait for them."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return {name: self._wait(proc, timeout) for name, proc in self.procs.items()}

    @staticmethod
    def _wait(proc: subprocess.Popen[bytes], timeout: float) -> int:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return proc.returncode

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
