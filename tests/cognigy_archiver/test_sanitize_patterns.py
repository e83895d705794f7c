"""`cognigy-archiver sanitize --rules-file` with a pattern that backtracks catastrophically exits with a clear
error in seconds (issue 14, finding 3: it hung). Each run has a timeout, so on the old code these fail in
TIMEOUT seconds rather than hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

TIMEOUT = 30
KEY = "test-tokenization-key-0123456789abcdef"


def sanitize(tmp_path: Path, pattern: str, *texts: str) -> tuple[subprocess.CompletedProcess[str], float]:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"entity_type": "ALL"}, {"entity_type": "TICKET_ID", "pattern": pattern}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CA_")}
    env |= {"CA_SPACY_MODEL": "none", "CA_SANITIZER_WORKERS": "1", "CA_TOKENIZATION_KEY": KEY}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", "sanitize", "--rules-file", str(rules)],
                          input="".join(json.dumps({"text": t}) + "\n" for t in texts), env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=Path(__file__).resolve().parents[2])
    return done, time.monotonic() - started


def error_lines(stderr: str) -> list[str]:
    """What the command says from its error on (before it: the no-NER-model notice)."""
    lines = stderr.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("error: ")):]


def test_a_pattern_the_trial_catches_is_refused_before_any_input_is_read(tmp_path: Path) -> None:
    done, seconds = sanitize(tmp_path, r"(\w+\s?)+$", "a" * 40 + "!")
    assert done.returncode == 2
    assert done.stdout == ""
    assert error_lines(done.stderr) == [
        "error: invalid PII rules",
        "  - pii_rules[1].pattern: too slow: over 0.2 s on 1000-character trial texts (catastrophic backtracking); "
        "rewrite it without nested or overlapping repeats",
    ]
    assert "Traceback" not in done.stderr
    assert seconds < 15


def test_a_pattern_that_runs_out_of_time_on_the_input_stops_the_command_with_the_rule_named(tmp_path: Path) -> None:
    done, seconds = sanitize(tmp_path, r"(ab|ab)+c", "ticket abc", "ab" * 40)
    assert done.returncode == 2
    assert done.stdout == ""  # the batch holding the text was not written, half sanitized or at all
    assert error_lines(done.stderr) == [
        "error: pii_rules[1].pattern ran over its time limit of 1 s on one text",
        "  - pii_rules[1].pattern: too slow: over 1 s on one text (catastrophic backtracking); rewrite it without "
        "nested or overlapping repeats",
    ]
    assert seconds < 15
