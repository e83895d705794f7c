"""The command line as a user runs it: a real process, real output, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.kafka.tables import topic_values
from shared.kafka.topics import EXPORTS
from shared.messages import ExportRequest, decode
from shared.settings import Settings


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_a_400_day_window_gets_a_structured_error_and_nothing_is_sent() -> None:
    result = cli("export", "submit", "--start", "2025-01-01T00:00:00Z", "--end", "2026-02-05T00:00:00Z",
                 "--max-storage-mb", "0", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["error"] == "validation_failed"
    assert error["details"]["problems"] == [
        {"field": "window", "problem": "400 days is longer than the limit of 365 days"},
        {"field": "max_storage_mb", "problem": "must be a positive number of megabytes"},
    ]


def test_the_same_error_reads_plainly_without_json() -> None:
    result = cli("export", "submit", "--start", "2025-01-01T00:00:00Z", "--end", "2026-02-05T00:00:00Z")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: invalid export request",
        "  - window: 400 days is longer than the limit of 365 days",
    ]
    assert "Traceback" not in result.stderr


def test_a_window_ending_in_the_future_is_refused_rather_than_held() -> None:
    # The fetcher would hold it until it has passed and settled, and every export behind it would wait.
    end = datetime.now(UTC) + timedelta(days=1)
    result = cli("export", "submit", "--start", (end - timedelta(days=2)).isoformat(), "--end", end.isoformat(),
                 "--json")
    assert result.returncode == 2
    assert json.loads(result.stderr)["details"]["problems"] == [
        {"field": "window", "problem": "end is in the future: submit the window once it has passed"}]


def test_a_bad_rule_and_a_bad_setting_are_named() -> None:
    result = cli("export", "submit", "--start", "2025-01-01", "--end", "2025-01-02", "--rule", "EMAIL:shred")
    assert result.returncode == 2 and "ACTION one of mask, tokenize, redact, encrypt" in result.stderr
    result = cli("run", "verifier", env={"CA_PAGE_PARTITIONS": "four", "PATH": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: invalid setting: Expected `int`, got `str` - at `CA_PAGE_PARTITIONS`"


def test_unreachable_kafka_is_one_clear_line() -> None:
    result = cli("export", "submit", "--start", "2025-01-01", "--end", "2025-01-02",
                 env={"CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: cannot reach Kafka at 127.0.0.1:1")
    assert "Unclosed" not in result.stderr


async def test_a_valid_request_lands_on_the_exports_topic(topics: Settings) -> None:
    env = {"CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers, "CA_TOPIC_PREFIX": topics.kafka.topic_prefix}
    result = cli("export", "submit", "--start", "2025-01-01T00:00:00Z", "--end", "2025-01-31T00:00:00Z",
                 "--rule", "EMAIL_ADDRESS:tokenize", "--rule", "PERSON:mask:3", "--export-id", "exp-cli-1", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exp-cli-1"
    [value] = await topic_values(topics, EXPORTS)
    request: ExportRequest = decode(value, ExportRequest)
    assert request.export_id == "exp-cli-1"
    assert [(r.entity_type, r.action, r.min_length) for r in request.options.pii_rules] == [
        ("EMAIL_ADDRESS", "tokenize", 0), ("PERSON", "mask", 3)]


def test_an_archive_path_that_does_not_exist_is_an_error_not_an_empty_archive(tmp_path: Path) -> None:
    missing = tmp_path / "archiv"  # a typo: "nothing held for this person" would be a false answer
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"email": ["someone@example.com"]}))
    env = {"CA_ARCHIVE_DIR": str(missing), "CA_TOKENIZATION_KEY": "k" * 32, "CA_AUDIT_HMAC_KEY": "h" * 32,
           "CA_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"), "PATH": ""}
    for args in (("subject", "find", "--request-file", str(request)),
                 ("subject", "erase", "--request-file", str(request), "--reason", "DSR-1", "--yes"),
                 ("archive", "verify", "exp-1"), ("archive", "expire")):
        result = cli(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.strip() == f"error: no archive at {missing} (CA_ARCHIVE_DIR): check the path", args
    assert not missing.exists()
    assert not (tmp_path / "audit.jsonl").exists()
