"""`cognigy-archiver fetch` as an operator runs it: a real process against the simulator run as a real
process (`cognigy-archiver simulate`, faults switched on by environment), files on disk, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cognigy_archiver.localkafka import free_port
from cognigy_archiver.processes import ProcessGroup, child_env
from simulator.config import DEMO_CREDENTIALS

WINDOW = ["--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z"]
FAULTS = {"throttle_every": 7, "throttle_burst": 2, "truncate_pages": [1], "flaky_checksum_pages": [2]}


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = child_env({"COGNIGY_SIM_FAULTS": json.dumps(FAULTS)})
    procs = ProcessGroup(env, tmp_path_factory.mktemp("sim-logs"))
    url = procs.start_simulator(free_port(), "--conversations", "30", "--page-size", "20", "--corrupt-page", "4")
    yield url
    procs.stop_all()


def fetch(out: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CA_")}
    environ.update({"CA_COGNIGY_POLL_INTERVAL_SECONDS": "0.05", "CA_COGNIGY_BACKOFF_CAP_SECONDS": "0.5",
                    **DEMO_CREDENTIALS, **env})
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", "fetch", "--out", str(out), *args],
                          capture_output=True, text=True, env=environ, timeout=120)


def test_fetch_writes_verified_pages_and_a_summary_and_reports_a_partial_export(simulator: str,
                                                                               tmp_path: Path) -> None:
    result = fetch(tmp_path, "--base-url", simulator, *WINDOW, "--transcripts")
    assert result.returncode == 1, result.stderr  # page 4 never matches its checksum
    assert "partial: page(s) [4] never matched their checksum" in result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] and summary["partial"] and summary["mismatched_pages"] == [4]
    assert summary["throttled"] >= 2 and summary["retries"] >= summary["throttled"]
    assert summary["ranged_resumes"] == 1 and summary["checksum_redownloads"] == 3 + 2
    pages = sorted((tmp_path / "pages").glob("*.json"))
    assert len(pages) == summary["pages"] - 1 and (tmp_path / "dlq" / "00000004.json").exists()
    assert "checksum mismatch after 3 re-downloads" in (tmp_path / "dlq" / "00000004.reason.txt").read_text()
    check = subprocess.run(["sha256sum", "-c", *[p.name + ".sha256" for p in pages]], cwd=tmp_path / "pages",
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    records = sum(len(json.loads(p.read_text())["items"]) for p in pages)
    assert records == summary["records"] - len(json.loads((tmp_path / "dlq" / "00000004.json").read_text())["items"])
    assert summary["transcripts"] == len(list((tmp_path / "transcripts").glob("*.json"))) > 0
    assert summary["duration_seconds"] > 0 and summary["requests"] > summary["pages"]


def test_fetch_with_odata_and_an_api_key(simulator: str, tmp_path: Path) -> None:
    result = fetch(tmp_path, "--source", "odata", "--base-url", simulator, *WINDOW, "--json",
                   CA_COGNIGY_AUTH="api_key", CA_COGNIGY_API_KEY="demo-api-key-0123456789abcdef")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] and not summary["partial"] and summary["pages"] == len(list((tmp_path / "pages").glob(
        "*.json")))


def test_refused_credentials_exit_non_zero_with_one_clear_line(simulator: str, tmp_path: Path) -> None:
    result = fetch(tmp_path, "--base-url", simulator, *WINDOW, CA_COGNIGY_CLIENT_SECRET="wrong-secret-value")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: Cognigy refused the oauth2 credentials (401): client authentication failed: unknown client_id or "
        "wrong client_secret (error invalid_client); check CA_COGNIGY_CLIENT_ID and CA_COGNIGY_CLIENT_SECRET")
    assert "Traceback" not in result.stderr and "wrong-secret-value" not in result.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["error"].startswith("Cognigy refused")


def test_an_invalid_request_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = fetch(tmp_path, "--source", "rest", "--base-url", "http://127.0.0.1:1", *WINDOW, "--json")
    assert result.returncode == 2
    assert json.loads(result.stderr)["details"]["problems"] == [
        {"field": "source", "problem": "the REST source fetches sessions by id: list the session ids"}]
    assert not (tmp_path / "summary.json").exists()
