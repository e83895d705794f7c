"""docs/schemas/ is what the code generates (`cognigy-archiver schemas write`), and a message that changes in a
way its readers or writers would trip on must bump its schema version (shared/contract.py)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import jsonschema
import msgspec
import pytest
import yaml
from typer.testing import CliRunner

from cognigy_archiver.cli import app
from cognigy_archiver.schemas_command import SCHEMAS_FOLDER
from cognigy_archiver.topic_contract import CHANNELS, pipeline_contract
from shared.contract import (
    ASYNCAPI_FILE,
    breaking_change,
    incompatibilities,
    members,
    message_schema,
    schema_file,
    write_documents,
)
from shared.errors import ValidationFailed
from shared.kafka.topics import topic_specs
from shared.public_topic import ExportEnd, PageWithheld, TranscriptRecord, encode_public
from shared.settings import Settings

USERS_FILE = Path(__file__).resolve().parents[1] / "k8s" / "base" / "kafkausers.yaml"
PREFIX = Settings().kafka.topic_prefix


def test_docs_schemas_are_what_the_code_generates() -> None:
    out_of_date = write_documents(pipeline_contract(), SCHEMAS_FOLDER, check=True)
    assert out_of_date == [], f"docs/schemas/ is out of date ({out_of_date}): run `cognigy-archiver schemas write`"


def test_every_topic_has_a_channel_and_its_parties_are_the_acls() -> None:
    assert sorted(c.topic for c in CHANNELS) == sorted(s.name for s in topic_specs(Settings()))
    users = [d for d in yaml.safe_load_all(USERS_FILE.read_text()) if d]
    for channel in CHANNELS:
        def granted(operation: str, channel_topic: str = channel.topic) -> set[str]:
            return {u["metadata"]["name"].removeprefix("cognigy-archiver-") for u in users
                    for acl in u["spec"]["authorization"]["acls"]
                    if acl["resource"] == {"type": "topic", "name": PREFIX + channel_topic, "patternType": "literal"}
                    and operation in acl["operations"]}
        # `downstream`: teams outside the pipeline, with users of their own.
        assert (granted("Write"), granted("Read")) == (set(channel.senders),
                                                       set(channel.receivers) - {"downstream"}), channel.topic


def test_the_asyncapi_document_names_every_channel_and_its_messages() -> None:
    document = yaml.safe_load((SCHEMAS_FOLDER / ASYNCAPI_FILE).read_text())
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values() if c["address"]}
    assert addresses == {"{prefix}" + c.topic for c in CHANNELS}
    for message in document["components"]["messages"].values():
        assert (SCHEMAS_FOLDER / message["payload"]["$ref"]).is_file()
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        assert {m["$ref"].rsplit("/", 1)[-1] for m in operation["messages"]} <= set(
            document["channels"][channel]["messages"])


def test_the_public_messages_validate_against_their_published_schemas() -> None:
    at = "2026-03-01T00:00:00Z"
    instant = datetime(2026, 3, 1, tzinfo=UTC)
    samples = [
        TranscriptRecord(export_id="e1", conversation="s1", page_index=2, record_index=3, sequence=2_000_003,
                         timestamp=at, sanitized_at=instant,
                         key_id="k1", record={"id": "r", "inputText": "[PERSON_k1_ab]"}),
        PageWithheld(export_id="e1", page_index=4, dead=True, withheld_records=0),
        ExportEnd(export_id="e1", source_partition=0, source_partitions=4, total_pages=5, total_records=99,
                  started_at=instant),
    ]
    for sample in samples:
        schema = json.loads((SCHEMAS_FOLDER / schema_file(type(sample))).read_text())
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
            json.loads(encode_public(sample)))
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**json.loads(encode_public(sample)), "export_id": "../x"}, schema)


# --- the compatibility check --------------------------------------------------------------------------------


class Turn(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    text: str
    kind: Literal["user", "bot", "agent"] = "user"
    v: int = 1


class TurnWithoutText(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    kind: Literal["user", "bot", "agent"] = "user"
    v: int = 1


class TurnWithTextAsNumber(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    text: int
    kind: Literal["user", "bot", "agent"] = "user"
    v: int = 1


class TurnWithLanguage(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    text: str
    kind: Literal["user", "bot", "agent"] = "user"
    language: str | None = None
    v: int = 1


class TurnNeedingLanguage(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    text: str
    language: str
    kind: Literal["user", "bot", "agent"] = "user"
    v: int = 1


class TurnWithoutAgents(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    text: str
    kind: Literal["user", "bot"] = "user"
    v: int = 1


class TurnV2WithoutText(msgspec.Struct, kw_only=True, tag="turn"):
    export_id: str
    page_index: int
    kind: Literal["user", "bot", "agent"] = "user"
    v: int = 2


class Page(msgspec.Struct, kw_only=True):
    turns: list[Turn]
    v: int = 1


class PageOfTurnsWithoutText(msgspec.Struct, kw_only=True):
    turns: list[TurnWithoutText]
    v: int = 1


def changes(old: type, new: type) -> list[str]:
    return incompatibilities(message_schema(old, "json"), message_schema(new, "json"))


def test_a_removed_field_is_incompatible() -> None:
    assert changes(Turn, TurnWithoutText) == ["$.text: field removed"]
    assert changes(Page, PageOfTurnsWithoutText) == ["$.turns[].text: field removed"]  # nested too


def test_a_changed_type_is_incompatible() -> None:
    assert changes(Turn, TurnWithTextAsNumber) == ["$.text: type changed from string to integer"]


def test_an_added_optional_field_is_compatible_and_a_required_one_is_not() -> None:
    assert changes(Turn, TurnWithLanguage) == []
    assert changes(Turn, TurnNeedingLanguage) == ["$.language: new required field"]
    # str | None to str: null is refused now, too.
    assert changes(TurnWithLanguage, TurnNeedingLanguage) == ["$.language: type changed from null to string",
                                                              "$.language: field became required"]


def test_a_removed_enum_value_is_incompatible_and_an_added_one_is_not() -> None:
    assert changes(Turn, TurnWithoutAgents) == ['$.kind: enum value(s) "agent" removed']
    assert changes(TurnWithoutAgents, Turn) == []


def test_a_version_bump_lets_an_incompatible_change_through() -> None:
    assert breaking_change(message_schema(Turn, "json"), message_schema(TurnWithoutText, "json")) != []
    assert breaking_change(message_schema(Turn, "json"), message_schema(TurnV2WithoutText, "json")) == []


def test_every_published_message_is_compatible_with_itself() -> None:
    for channel in CHANNELS:
        for kind in members(channel.messages):
            schema = json.loads((SCHEMAS_FOLDER / schema_file(kind)).read_text())
            assert incompatibilities(schema, schema) == [], kind


def test_schemas_write_refuses_an_incompatible_change_and_check_reports_a_stale_file(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_FOLDER, folder)
    runner = CliRunner()
    assert runner.invoke(app, ["schemas", "write", "--check", "--to", str(folder)]).exit_code == 0

    # As if the committed schema had a field the code no longer has: the write is refused, the file kept.
    published = folder / schema_file(TranscriptRecord)
    old = json.loads(published.read_text())
    old["$defs"]["TranscriptRecord"]["properties"]["channel"] = {"type": "string"}
    published.write_text(json.dumps(old))
    refused = runner.invoke(app, ["schemas", "write", "--to", str(folder)])
    assert refused.exit_code == 2 and "$.channel: field removed" in refused.output
    assert json.loads(published.read_text()) == old
    with pytest.raises(ValidationFailed):
        write_documents(pipeline_contract(), folder, check=True)

    # A compatible difference (the code accepts more than the file says) is only out of date; writing fixes it.
    del old["$defs"]["TranscriptRecord"]["properties"]["channel"]
    old["$defs"]["TranscriptRecord"]["properties"]["page_index"]["minimum"] = 1
    published.write_text(json.dumps(old))
    stale = runner.invoke(app, ["schemas", "write", "--check", "--to", str(folder)])
    assert stale.exit_code == 1 and "transcript_record.schema.json" in stale.output
    assert runner.invoke(app, ["schemas", "write", "--to", str(folder)]).exit_code == 0
    assert published.read_bytes() == (SCHEMAS_FOLDER / published.name).read_bytes()
