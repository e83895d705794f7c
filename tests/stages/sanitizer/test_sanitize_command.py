"""`cognigy-archiver sanitize` and `detokenize` as a user runs them: real processes, JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cognigy_archiver.sanitize_command import _record, _spans
from stages.sanitizer.engine import PiiEngine

from .conftest import KEY

LINES = [
    {"text": "What's your phone number?", "source": "bot", "session": "s1"},
    {"text": "four one five, five five five, zero one four three", "session": "s1", "id": 7},
    {"text": "mail jane.doe@example.com or card 4111 1111 1111 1111"},
    {"text": "nothing to see"},
]


def run(*args: str, stdin: str = "", key: bytes | None = KEY, model: str = "none") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CA_")}
    env |= {"CA_SPACY_MODEL": model, "CA_SANITIZER_WORKERS": "1"}
    if key is not None:
        env["CA_TOKENIZATION_KEY"] = key.decode()
    return subprocess.run([sys.executable, "-m", "cognigy_archiver.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[3])


def jsonl(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def test_sanitize_rewrites_texts_in_order_with_a_summary_each() -> None:
    done = run("sanitize", "--rule", "ALL:tokenize", "--rule", "CREDIT_CARD:encrypt", stdin=jsonl(LINES))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("id") for o in out] == [None, 7, None, None]
    assert out[0]["text"] == LINES[0]["text"] and out[0]["redactions"] == []
    assert out[1]["text"].startswith("[PHONE_NUMBER_k1_")
    assert "jane" not in out[2]["text"] and "[CREDIT_CARD_k1_enc:" in out[2]["text"]
    assert out[3] == {"text": "nothing to see", "redactions": []}
    assert [(r["entity_type"], r["action"], r["rule"]) for r in out[2]["redactions"]] == [
        ("CREDIT_CARD", "encrypt", 1), ("EMAIL_ADDRESS", "tokenize", 0)]
    totals = json.loads(done.stderr.strip().splitlines()[-1])["totals"]
    assert {(t["entity_type"], t["count"]) for t in totals} == {("PHONE_NUMBER", 1), ("EMAIL_ADDRESS", 1),
                                                                ("CREDIT_CARD", 1)}
    # The card comes back with the key.
    back = run("detokenize", stdin=done.stdout)
    assert back.returncode == 0, back.stderr
    assert "card 4111111111111111" in json.loads(back.stdout.splitlines()[2])["text"]


def test_spans_are_offsets_into_the_input() -> None:
    done = run("sanitize", "--spans", stdin=jsonl(LINES), key=None)  # spans need no key
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert "text" not in out[1] and out[1]["id"] == 7
    found = [[(LINES[i]["text"][s["start"] : s["end"]], s["type"]) for s in o["spans"]] for i, o in enumerate(out)]
    assert found == [
        [],
        [("four one five, five five five, zero one four three", "PHONE_NUMBER")],
        [("jane.doe@example.com", "EMAIL_ADDRESS"), ("4111 1111 1111 1111", "CREDIT_CARD")],
        [],
    ]
    assert all(0 < s["score"] <= 1 for o in out for s in o["spans"])


def test_spans_with_the_model_in_its_helper_process_are_those_found_in_this_one(ner_engine: PiiEngine) -> None:
    lines = [
        {"text": "Hello, you are through to billing. Who am I speaking with?", "source": "bot", "session": "t1"},
        {"text": "Hi, it's Priya Raghunathan, I moved from Leeds to Sheffield in May.", "session": "t1"},
        {"text": "Thank you, Ms Raghunathan. And the new address?", "source": "bot", "session": "t1"},
        {"text": "14 Carrow Lane, Norwich", "session": "t1"},
        {"text": "Wilhelmina Okafor and Dmitri Vasquez both need access to the Hartley Road account."},
    ]
    done = run("sanitize", "--spans", stdin=jsonl(lines), key=None, model="auto")
    assert done.returncode == 0, done.stderr
    records = [_record(number, line) for number, line in enumerate(lines, start=1)]
    assert [json.loads(line)["spans"] for line in done.stdout.splitlines()] == _spans(ner_engine, records, [])


def test_rules_file_with_mask_options(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"entity_type": "CREDIT_CARD", "action": "mask", "keep_last": 4}]))
    done = run("sanitize", "--rules-file", str(rules), stdin=jsonl([{"text": "card 4111-1111-1111-1111"}]))
    assert json.loads(done.stdout)["text"] == "card ***************1111"


def test_bad_input_is_named_without_quoting_it() -> None:
    done = run("sanitize", stdin='{"text": "ok"}\n{"txt": "jane.doe@example.com"}\n')
    assert done.returncode == 2
    assert "line 2" in done.stderr and "jane" not in done.stderr
    bad_rule = run("sanitize", "--rule", "SSN:tokenize", stdin="")
    assert bad_rule.returncode == 2 and "unknown type 'SSN'" in bad_rule.stderr


def test_sanitize_needs_a_key_and_detokenize_the_right_one() -> None:
    assert "CA_TOKENIZATION_KEY" in run("sanitize", stdin=jsonl(LINES), key=None).stderr
    token = json.loads(run("sanitize", "--rule", "ALL:encrypt", stdin=jsonl(LINES[2:3])).stdout)["text"].split()[1]
    assert run("detokenize", token).stdout.strip() == "jane.doe@example.com"
    wrong = run("detokenize", token, key=b"another-tokenization-key-fedcba9876543210")
    assert wrong.returncode == 2 and "not encrypted with this key" in wrong.stderr
    assert "key id 'k1', not 'k9'" in run("detokenize", "--key-id", "k9", token).stderr
