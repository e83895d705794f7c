"""Where text lives in a Cognigy Conversations record, and how to put sanitized text back.

Scanned: `inputText`, `ratingComment`, `previousInputText`, `reference`, and every string leaf of
`inputData`, `previousInputData` and `inputAttachments` (the names and URLs of files a user uploads), which
arrive as objects or as JSON strings. Dict keys inside them are scanned too when they look like values
rather than names (a space, '@', '+' or a leading digit: `{"jane@example.com": true}`); a key that is an
identifier (`firstName`, `order_id`, `field-2`) is a name. Not scanned: ids, timestamps, flow and node
names, and the other fields of a record, which the platform writes, not the people in the conversation.

The walkers recurse once per level: a record must pass `check_nesting` (at most MAX_DEPTH levels,
shared/nesting.py, JSON text in its data fields included) before they see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from shared.nesting import check_depth, decode_json


class KeyOf(msgspec.Struct, frozen=True):
    """The last step of a path to a dict key (the text is the key itself, not its value)."""

    key: str


Path = tuple[str | int | KeyOf, ...]

TEXT_FIELDS = ("inputText", "ratingComment", "previousInputText", "reference")
CONTACT_ID = "CONTACT_ID"  # the entity type of the `contactId` field, which is always tokenized
DATA_FIELDS = ("inputData", "previousInputData", "inputAttachments")
_NAME_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.$-]*")


class Leaf(msgspec.Struct, frozen=True):
    """One string in a record: where it is, the text, and the dict key it sits under (for data leaves;
    lists inherit their key), which may say what the text holds."""

    path: Path
    text: str
    key: str | None = None


def text_leaves(record: Mapping[str, Any]) -> list[Leaf]:
    leaves = [Leaf((name,), value) for name in TEXT_FIELDS if isinstance(value := record.get(name), str)]
    for name in DATA_FIELDS:
        if name in record:
            _collect(_parsed(record[name]), (name,), None, leaves)
    return leaves


def with_texts(record: Mapping[str, Any], texts: Mapping[Path, str]) -> dict[str, Any]:
    """A copy of `record` with the string at each path replaced; containers on a path are copied, the
    rest is shared. A JSON-string inputData that changes is re-encoded (compactly)."""
    copy = dict(record)
    by_field: dict[str, dict[Path, str]] = {}
    for path, text in texts.items():
        by_field.setdefault(str(path[0]), {})[path[1:]] = text
    for name, replacements in by_field.items():
        if name in TEXT_FIELDS:
            copy[name] = replacements[()]
            continue
        original = record[name]
        parsed = _parsed(original)
        updated = _replaced(parsed, (), replacements)
        if parsed is not original:  # it came as JSON text: it leaves as JSON text
            updated = json.dumps(updated, ensure_ascii=False, separators=(",", ":"))
        copy[name] = updated
    return copy


def check_nesting(record: Mapping[str, Any]) -> None:
    """TooDeeplyNested if the record, or the JSON text of one of its data fields, nests deeper than
    MAX_DEPTH: the walkers below recurse once per level. The verifier holds records to the limit; JSON text
    inside a field only the sanitizer reads, and a page may come from elsewhere than the verifier."""
    check_depth(record)
    for name in DATA_FIELDS:
        _parsed(record.get(name))


def _parsed(value: Any) -> Any:
    """A JSON-string object or array as its value; anything else (plain text included) as it is.
    TooDeeplyNested if it is JSON text nested deeper than MAX_DEPTH."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return decode_json(value.encode())
        except msgspec.DecodeError:
            return value
    return value


def _collect(value: Any, path: Path, key: str | None, leaves: list[Leaf]) -> None:
    if isinstance(value, str):
        leaves.append(Leaf(path, value, key))
    elif isinstance(value, Mapping):
        for child_key, child in value.items():
            if isinstance(child_key, str) and not _NAME_KEY.fullmatch(child_key):
                leaves.append(Leaf((*path, KeyOf(child_key)), child_key))
            _collect(child, (*path, child_key), str(child_key), leaves)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _collect(child, (*path, index), key, leaves)


def _replaced(value: Any, path: Path, replacements: Mapping[Path, str]) -> Any:
    if path in replacements:
        return replacements[path]
    if isinstance(value, Mapping):
        return {replacements.get((*path, KeyOf(k)), k): _replaced(v, (*path, k), replacements)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, (*path, i), replacements) for i, v in enumerate(value)]
    return value
