"""The published contract of the topics and webhooks, generated from the message types: a JSON Schema per
message (msgspec.json.schema over its Struct; a MessagePack topic's messages have the same schema, bytes as
bin and datetimes as timestamps), an AsyncAPI 3.0 document of every channel, and the rule that tells whether a
new schema breaks readers or writers of the old one (`incompatibilities`).

`cognigy-archiver schemas write` writes them to docs/schemas/ (what channels there are is
cognigy_archiver/topic_contract.py); tests/test_schema_contract.py fails when they differ from the code, and
when a message changed incompatibly without a bump of its schema version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec

from shared.errors import ValidationFailed

Encoding = Literal["json", "msgpack"]
Schema = dict[str, Any]
CONTENT_TYPES: dict[Encoding, str] = {"json": "application/json", "msgpack": "application/msgpack"}
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_FILE = "asyncapi.yaml"
TRACE_HEADER: Schema = {"type": "string", "description": "W3C trace context of the span that sent it "
                        "(https://www.w3.org/TR/trace-context/)"}


@dataclass(frozen=True)
class Channel:
    """A topic: the messages it carries (a Struct or a union of them), what its key is, who sends and who
    receives (stages, `client`: the command line, `downstream`: teams outside the pipeline)."""

    topic: str  # its short name (shared/kafka/topics.py)
    messages: Any
    encoding: Encoding
    key: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    description: str
    headers: Mapping[str, Schema] = field(default_factory=dict)  # besides traceparent


@dataclass(frozen=True)
class Webhook:
    """An event the notifier POSTs to every endpoint, signed (Standard Webhooks)."""

    event: str
    body: type[msgspec.Struct]
    version: int
    description: str


@dataclass(frozen=True)
class Contract:
    title: str
    description: str
    topic_prefix: str
    partitions: Mapping[str, int]  # topic -> partitions
    channels: tuple[Channel, ...]
    webhooks: tuple[Webhook, ...]


# --- one schema per message ---------------------------------------------------------------------------------


def members(messages: Any) -> tuple[type[msgspec.Struct], ...]:
    """The Structs of a union (or the one Struct)."""
    return get_args(messages) or (messages,)


def message_name(kind: type[msgspec.Struct]) -> str:
    """A message's name: its tag (its `type` on the wire), else its class name in snake case."""
    tag = kind.__struct_config__.tag
    return str(tag) if tag is not None else re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def schema_version(kind: type[msgspec.Struct]) -> int:
    """The version a message carries in `v` (0: it carries none)."""
    version = next((f.default for f in msgspec.structs.fields(kind) if f.name == "v"), 0)
    return version if isinstance(version, int) else 0


def message_schema(kind: type[msgspec.Struct], encoding: Encoding, version: int | None = None) -> Schema:
    generated = _portable(msgspec.json.schema(kind))
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_file(kind), "title": kind.__name__,
            "x-schema-version": schema_version(kind) if version is None else version, "x-encoding": encoding,
            **generated}


def schema_file(kind: type[msgspec.Struct]) -> str:
    return f"{message_name(kind)}.schema.json"


def _portable(node: Any) -> Any:
    """Python's `\\A`/`\\Z` anchors as ECMA 262's `^`/`$` (what JSON Schema validators in other languages
    read; the patterns are anchored, single-line)."""
    if isinstance(node, dict):
        return {k: (_anchors(v) if k == "pattern" and isinstance(v, str) else _portable(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_portable(v) for v in node]
    return node


def _anchors(pattern: str) -> str:
    return re.sub(r"\\Z$", "$", re.sub(r"^\\A", "^", pattern))


# --- the documents ----------------------------------------------------------------------------------------


def documents(contract: Contract) -> dict[str, bytes]:
    """Every file of docs/schemas/: file name -> content."""
    files = {name: _json(schema) for name, schema in _schemas(contract)}
    files[ASYNCAPI_FILE] = msgspec.yaml.encode(asyncapi(contract))
    return files


def _schemas(contract: Contract) -> Iterator[tuple[str, Schema]]:
    seen: dict[str, Schema] = {}
    for channel in contract.channels:
        for kind in members(channel.messages):
            seen.setdefault(schema_file(kind), message_schema(kind, channel.encoding))
    for hook in contract.webhooks:
        seen.setdefault(_webhook_file(hook), message_schema(hook.body, "json", hook.version))
    yield from sorted(seen.items())


def _webhook_file(hook: Webhook) -> str:
    return f"webhook.{hook.event}.schema.json"


def _json(schema: Schema) -> bytes:
    return (json.dumps(schema, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()


def asyncapi(contract: Contract) -> Schema:
    channels: Schema = {}
    operations: Schema = {}
    messages: Schema = {}
    for channel in contract.channels:
        cid = _camel(channel.topic)
        refs = {}
        for kind in members(channel.messages):
            mid = _camel(message_name(kind))
            refs[mid] = {"$ref": f"#/components/messages/{mid}"}
            messages.setdefault(mid, _message(kind, channel))  # ExportTotal: as first described
        channels[cid] = {
            "address": "{prefix}" + channel.topic, "description": channel.description,
            "parameters": {"prefix": {"description": "CA_TOPIC_PREFIX", "default": contract.topic_prefix}},
            "messages": refs, "servers": [{"$ref": "#/servers/kafka"}],
            "bindings": {"kafka": {"topic": contract.topic_prefix + channel.topic,
                                   "partitions": contract.partitions[channel.topic], "bindingVersion": "0.5.0"}}}
        for action, parties in (("send", channel.senders), ("receive", channel.receivers)):
            for party in parties:
                operations[f"{_camel(party)}{action.title()}s{cid[0].upper()}{cid[1:]}"] = {
                    "action": action, "channel": {"$ref": f"#/channels/{cid}"},
                    "summary": f"{party} {action}s {channel.topic}",
                    "messages": [{"$ref": f"#/channels/{cid}/messages/{m}"} for m in refs]}
    for hook in contract.webhooks:
        cid, mid = _camel(f"webhook.{hook.event}"), _camel(f"{hook.event}.event")
        messages[mid] = {"name": hook.event, "title": hook.body.__name__, "summary": _summary(hook.body),
                         "contentType": "application/json", "payload": {"$ref": f"./{_webhook_file(hook)}"},
                         "headers": _WEBHOOK_HEADERS}
        channels[cid] = {"address": None, "description": hook.description + " The address is each endpoint "
                         "of CA_WEBHOOK_URLS.", "servers": [{"$ref": "#/servers/webhookEndpoint"}],
                         "messages": {mid: {"$ref": f"#/components/messages/{mid}"}}}
        operations[f"notifierSends{cid[0].upper()}{cid[1:]}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{cid}"}, "summary": f"notifier POSTs {hook.event}",
            "bindings": {"http": {"method": "POST", "bindingVersion": "0.3.0"}},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{mid}"}]}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": contract.title, "version": str(_contract_version(contract)),
                 "description": contract.description},
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {"host": "{bootstrap}", "protocol": "kafka", "description": "The Kafka cluster",
                      "variables": {"bootstrap": {"description": "CA_KAFKA_BOOTSTRAP_SERVERS",
                                                  "default": "localhost:9092"}}},
            "webhookEndpoint": {"host": "{endpoint}", "protocol": "https",
                                "description": "A receiver of the webhooks (CA_WEBHOOK_URLS)",
                                "variables": {"endpoint": {"description": "its host"}}}},
        "channels": channels, "operations": operations, "components": {"messages": messages}}


_WEBHOOK_HEADERS: Schema = {"type": "object", "required": ["webhook-id", "webhook-timestamp", "webhook-signature"],
                            "properties": {
                                "webhook-id": {"type": "string", "description": "The same on every resend"},
                                "webhook-timestamp": {"type": "string", "description": "Unix seconds of the send"},
                                "webhook-signature": {"type": "string",
                                                      "description": "v1,<base64 HMAC-SHA256>, one per secret"}}}


def _message(kind: type[msgspec.Struct], channel: Channel) -> Schema:
    headers = {**channel.headers, "traceparent": TRACE_HEADER}
    return {"name": message_name(kind), "title": kind.__name__, "summary": _summary(kind),
            "contentType": CONTENT_TYPES[channel.encoding], "payload": {"$ref": f"./{schema_file(kind)}"},
            "headers": {"type": "object", "properties": headers},
            "bindings": {"kafka": {"key": {"type": "string", "description": channel.key}, "bindingVersion": "0.5.0"}}}


def _summary(kind: type) -> str:
    return (kind.__doc__ or kind.__name__).strip().split("\n\n")[0].replace("\n", " ").replace("    ", " ")


def _camel(name: str) -> str:
    first, *rest = re.split(r"[._\-]", name)
    return first + "".join(word.title() for word in rest)


def _contract_version(contract: Contract) -> int:
    """The contract's version: the highest of its messages' (each message has its own, in its schema)."""
    kinds = {kind for channel in contract.channels for kind in members(channel.messages)}
    return max([schema_version(k) for k in kinds] + [h.version for h in contract.webhooks])


# --- writing, checking --------------------------------------------------------------------------------------


def write_documents(contract: Contract, folder: Path, *, check: bool) -> list[str]:
    """Write the documents to `folder` (with `check`, only compare): the names of files that were (would be)
    written or removed. Raises ValidationFailed when a message changed incompatibly without a version bump."""
    wanted = documents(contract)
    present = {p.name: p.read_bytes() for p in folder.glob("*") if p.is_file()} if folder.is_dir() else {}
    problems = [{"field": name, "problem": problem} for name, data in wanted.items()
                if name.endswith(".json") and name in present
                for problem in breaking_change(json.loads(present[name]), json.loads(data))]
    if problems:
        raise ValidationFailed(problems, "schema change")
    changed = sorted(name for name, data in wanted.items() if present.get(name) != data)
    stale = sorted(set(present) - set(wanted))
    if not check:
        folder.mkdir(parents=True, exist_ok=True)
        for name in changed:
            (folder / name).write_bytes(wanted[name])
        for name in stale:
            (folder / name).unlink()
    return changed + stale


def breaking_change(old: Schema, new: Schema) -> list[str]:
    """What in `new` breaks readers or writers of `old`, unless its schema version is higher."""
    if new.get("x-schema-version", 0) > old.get("x-schema-version", 0):
        return []
    return [f"{problem} (bump the schema version, or keep it compatible)" for problem in incompatibilities(old, new)]


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Each incompatible change from `old` to `new`: a field removed, a type changed, a new required field, an
    enum value removed. Adding an optional field, or accepting more, is compatible."""
    return _Comparison(old, new).compare(old, new, "$")


@dataclass(frozen=True)
class _Comparison:
    old: Schema
    new: Schema

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        news = _alternatives(self.new, new)
        problems: list[str] = []
        for alternative in _alternatives(self.old, old):
            match = _counterpart(alternative, news)
            if match is None:
                problems.append(f"{path}: type changed from {_describe(alternative)} to "
                                f"{' | '.join(_describe(n) for n in news)}")
            else:
                problems.extend(self._compare_one(alternative, match, path))
        return problems

    def _compare_one(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = []
        if "enum" in old and "enum" in new:
            removed = [v for v in old["enum"] if v not in new["enum"]]
            if removed:
                problems.append(f"{path}: enum value(s) {', '.join(map(json.dumps, removed))} removed")
        elif "enum" in new:
            problems.append(f"{path}: type changed from {_describe(old)} to {_describe(new)}")
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        for name, sub in old_fields.items():
            if name not in new_fields:
                problems.append(f"{path}.{name}: field removed")
            else:
                problems.extend(self.compare(sub, new_fields[name], f"{path}.{name}"))
        for name in new.get("required", []):
            if name not in old.get("required", []):
                problems.append(f"{path}.{name}: " + ("field became required" if name in old_fields
                                                      else "new required field"))
        for key in ("items", "additionalProperties"):  # a list's, or a dict's, values
            if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                problems.extend(self.compare(old[key], new[key], f"{path}[]"))
        before, after = old.get("prefixItems", []), new.get("prefixItems", [])  # a tuple's
        if len(before) != len(after):
            problems.append(f"{path}: type changed from a {len(before)}-tuple to a {len(after)}-tuple")
        for position, (was, now) in enumerate(zip(before, after, strict=False)):
            problems.extend(self.compare(was, now, f"{path}[{position}]"))
        return problems


def _resolve(document: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        node = document["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _alternatives(document: Schema, node: Schema) -> list[Schema]:
    node = _resolve(document, node)
    if "anyOf" in node:
        return [a for sub in node["anyOf"] for a in _alternatives(document, sub)]
    return [node]


def _kind(node: Schema) -> str:
    if "enum" in node:
        return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(node["enum"][0]), "any")
    if "properties" in node:
        return "object"
    kind = node.get("type", "any")
    return kind if isinstance(kind, str) else "any"


def _counterpart(old: Schema, news: list[Schema]) -> Schema | None:
    """The alternative of the new schema that takes what `old` took: the same kind (a number takes an
    integer; anything takes anything), and for one of several objects the one of the same title."""
    kind = _kind(old)
    same = [n for n in news if _kind(n) == kind or _kind(n) == "any" or (kind, _kind(n)) == ("integer", "number")]
    if kind == "object" and len(same) > 1:
        same = [n for n in same if n.get("title") == old.get("title")]
    return same[0] if same else None


def _describe(node: Schema) -> str:
    return str(node.get("title") or _kind(node))
