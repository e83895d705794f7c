"""The public topic as a downstream team sees it: after a real pipeline run, the example consumer in
docs/examples/ (aiokafka and json only) prints every record of the export, each conversation's turns in the
order the source served them, and no raw PII; every message on the topic is valid by its published schema."""

from __future__ import annotations

import ast
import asyncio
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cognigy_archiver.schemas_command import SCHEMAS_FOLDER
from shared.kafka.tables import read_topic
from shared.kafka.topics import TRANSCRIPTS_SANITIZED
from shared.settings import Settings
from tests.test_end_to_end import running_pipeline

pytestmark = pytest.mark.timeout(300)

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "consume_transcripts.py"
STANDARD_LIBRARY = set(sys.stdlib_module_names)


def test_the_example_imports_nothing_of_the_project() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - STANDARD_LIBRARY == {"aiokafka"}


async def run_example(settings: Settings, export_id: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), "--bootstrap", settings.kafka.bootstrap_servers,
        "--topic", settings.kafka.topic(TRANSCRIPTS_SANITIZED), "--export", export_id,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=EXAMPLE.parent)
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


def validators() -> dict[str, jsonschema.Draft202012Validator]:
    return {name: jsonschema.Draft202012Validator(json.loads((SCHEMAS_FOLDER / f"{name}.schema.json").read_text()),
                                                  format_checker=jsonschema.FormatChecker())
            for name in ("transcript_record", "page_withheld", "export_end")}


async def test_a_downstream_consumer_gets_each_conversation_in_order_and_no_pii(settings: Settings,
                                                                               tmp_path: Path) -> None:
    async with running_pipeline(settings, tmp_path) as pipeline:
        request = await pipeline.submit()
        event = await pipeline.wait_for_webhook()
        assert event["data"]["partial"] is False
        printed = await run_example(pipeline.settings, request.export_id)
        served = await pipeline.simulator_lines("/_sim/records")
        planted = await pipeline.simulator_lines("/_sim/ground-truth")
        published = [r async for r in read_topic(pipeline.settings,
                                                 pipeline.settings.kafka.topic(TRANSCRIPTS_SANITIZED))]

    turns = [line for line in printed if "record" in line]
    summaries = [line for line in printed if "complete" in line]
    partitions = pipeline.settings.kafka.page_partitions
    assert sorted(s["partition"] for s in summaries) == list(range(partitions))
    assert sum(s["records"] for s in summaries) == len(turns) == len(served) == event["data"]["records"]
    assert all(s["withheld_records"] == 0 and s["dead_pages"] == [] for s in summaries)

    # Each conversation's turns in the order the source served them (record ids survive sanitization).
    by_source: dict[str, list[str]] = defaultdict(list)
    for record in served:
        by_source[record["sessionId"]].append(record["id"])
    by_consumer: dict[str, list[str]] = defaultdict(list)
    for turn in turns:
        by_consumer[turn["conversation"]].append(turn["record"]["id"])
    assert sorted(by_consumer.values()) == sorted(by_source.values())

    text = "\n".join(json.dumps(line) for line in printed)
    assert len(planted) > 50
    assert sorted({p["value"] for p in planted if p["value"] in text}) == []

    # On the topic itself: every message valid by its schema, with the contract's headers, a conversation on
    # one partition, and end markers from every source partition on every partition.
    check = validators()
    conversation_partitions: dict[str, set[int]] = defaultdict(set)
    ends: dict[int, set[int]] = defaultdict(set)
    for message in published:
        value = json.loads(message.value or b"")
        check[value["type"]].validate(value)
        # traceparent too when tracing is on (tests/test_observability.py); it is off here.
        assert dict(message.headers) == {"export_id": value["export_id"].encode(), "schema_version": b"1",
                                         "content_type": b"application/json", "message_type": value["type"].encode()}
        if value["type"] == "transcript_record":
            conversation_partitions[value["conversation"]].add(message.partition)
        elif value["type"] == "export_end":
            ends[message.partition].add(value["source_partition"])
    assert all(len(p) == 1 for p in conversation_partitions.values())
    assert ends == {p: set(range(partitions)) for p in range(partitions)}
