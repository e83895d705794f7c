"""Our engine on the dev set written apart from this project (../shared/eval/chat_pii_dev/: labeled
contact-center conversations in seven languages, webchat, voice and WhatsApp), through the set's own scorer
and the CLI it drives, as a user would run it: the share of personal values left readable must not rise,
nor F2 and precision fall. bench/sanitizer_bench.py reports the same figures beside Presidio's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

REPO = Path(__file__).resolve().parents[3]
DEV_SET = REPO.parent / "shared" / "eval" / "chat_pii_dev"  # in CI a copy of shared/ sits beside the clone
COMMAND = ".venv/bin/cognigy-archiver sanitize --spans"

# What the engine reached (bench/results/sanitizer.json: leak 0.010, F2 0.992, precision 0.974), with 0.01 to
# spare: the leak rate up, F2 and precision down. Each language and channel keeps the bound of 8 %.
LEAK_AT_MOST = 0.02
F2_AT_LEAST = 0.98
PRECISION_AT_LEAST = 0.96
SLICE_LEAK_AT_MOST = 0.08


@pytest.fixture(scope="module")
def figures(nlp: Language, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not (DEV_SET / "score.py").exists():
        pytest.skip(f"the dev set is not at {DEV_SET}: it comes with shared/, beside this checkout")
    out = tmp_path_factory.mktemp("chat_pii_dev") / "figures.json"
    done = subprocess.run([sys.executable, str(DEV_SET / "score.py"), "--cmd", COMMAND, "--json-out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the scorer failed: {done.stderr[-2000:]}"
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def test_leak_rate_does_not_rise(figures: dict[str, Any]) -> None:
    overall = figures["overall"]
    assert overall["leak"] <= LEAK_AT_MOST, f"{overall['leaked']} of {overall['values']} values leak"


def test_f2_does_not_fall(figures: dict[str, Any]) -> None:
    assert figures["overall"]["F2"] >= F2_AT_LEAST


def test_precision_does_not_fall(figures: dict[str, Any]) -> None:
    assert figures["overall"]["precision"] >= PRECISION_AT_LEAST


@pytest.mark.parametrize("slice_kind", ["by_lang", "by_channel"])
def test_no_language_or_channel_leaks_more_than_the_bound(figures: dict[str, Any], slice_kind: str) -> None:
    leaking = {name: round(row["leak"], 3) for name, row in figures[slice_kind].items()
               if row["leak"] > SLICE_LEAK_AT_MOST}
    assert leaking == {}
