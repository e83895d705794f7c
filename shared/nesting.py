"""How deeply record content may nest, and reading JSON from outside without recursing into it.

Part of a record comes from end users (a chat's `inputData` is whatever the client sent), and msgspec,
`json` and every walker of a record recurse once per level: near the interpreter's recursion limit (1,000)
they raise RecursionError, wherever the record happens to be. So record content is held to MAX_DEPTH
levels of objects and arrays (the record itself is level 1), checked here without recursion before
anything walks it: a deeper record is refused as malformed, with that reason, and the rest of its page
goes on. A page holding a record too deep even for msgspec to skip is split without recursion, so that
record alone is refused.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from shared.errors import ArchiverError

MAX_DEPTH = 64

# A JSON string (skipped whole, so brackets in text do not count), or one structural character.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)
_OPEN = (b"[", b"{")
_CLOSE = (b"]", b"}")


class TooDeeplyNested(ArchiverError):
    code = "too_deeply_nested"

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        problem = f"nests deeper than {limit} levels of objects and arrays"
        super().__init__(problem, details={"problems": [{"field": "$", "problem": problem}], "max_depth": limit})


def json_too_deep(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests more than `limit` levels. Costs two byte counts when the text has no
    more than `limit` brackets in all; never less than the depth a parser would meet."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token in _CLOSE:
            depth -= 1
    return False


def decode_json(data: bytes, limit: int = MAX_DEPTH) -> Any:
    """msgspec.json.decode for text from outside: TooDeeplyNested if it nests more than `limit` levels
    (checked first, without recursion), msgspec.DecodeError if it is not JSON."""
    if json_too_deep(data, limit):
        raise TooDeeplyNested(limit)
    return msgspec.json.decode(data)


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """TooDeeplyNested if the dicts and lists of `value` (decoded JSON or MessagePack) nest more than
    `limit` levels; one level at a time, without recursion."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        if not level:
            return
        level = [child for container in level for child in (container.values() if isinstance(container, dict)
                                                            else container) if isinstance(child, dict | list)]
    if level:
        raise TooDeeplyNested(limit)


def json_array(data: bytes, key: str) -> list[bytes]:
    """The elements of the array at `key` of the JSON object `data`, each as its JSON text, to be judged
    one by one (with `decode_json`). msgspec.DecodeError if `data` is not such an object."""
    try:
        return [bytes(raw) for raw in getattr(_array_of_raw(key).decode(data), key)]
    except RecursionError:  # an element nests too deeply even to be skipped: split the text ourselves
        pass
    top = shallow(data)
    array = top.get(key) if isinstance(top, dict) else None
    elements = shallow(bytes(array)) if isinstance(array, msgspec.Raw) else None
    if not isinstance(elements, list):
        raise msgspec.DecodeError(f"expected an object with an array `{key}`")
    return [bytes(e) if isinstance(e, msgspec.Raw) else msgspec.json.encode(e) for e in elements]


def shallow(data: bytes) -> dict[str, Any] | list[Any]:
    """A JSON object or array with each object or array in it kept as its text (msgspec.Raw, which
    msgspec encodes back byte for byte), however deep those nest: its top-level fields, readable without
    recursion. msgspec.DecodeError if `data` is not a JSON object or array (or has a key twice)."""
    spans: list[tuple[int, int]] = []
    depth, start, members = 0, 0, 1
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth == 2:
                start = match.start()
        elif token in _CLOSE:
            if depth == 2:
                spans.append((start, match.end()))
            depth -= 1
        elif token == b"," and depth == 1:
            members += 1
    pieces, at = [], 0
    for begin, end in spans:
        pieces += [data[at:begin], b"{}"]  # a placeholder: every object or array in the skeleton is one
        at = end
    skeleton = b"".join([*pieces, data[at:]])
    if json_too_deep(skeleton, 2):  # brackets that never closed
        raise msgspec.DecodeError("not JSON: unbalanced brackets")
    top = msgspec.json.decode(skeleton)
    if isinstance(top, dict) and len(top) not in (0, members):
        raise msgspec.DecodeError("an object with a key twice")  # its values would not be in text order
    if not isinstance(top, dict | list):
        raise msgspec.DecodeError("expected a JSON object or array")
    texts = iter(msgspec.Raw(data[begin:end]) for begin, end in spans)
    if isinstance(top, dict):
        return {k: next(texts) if isinstance(v, dict) else v for k, v in top.items()}
    return [next(texts) if isinstance(v, dict) else v for v in top]


@cache
def _array_of_raw(key: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(msgspec.defstruct(f"_{key}", [(key, list[msgspec.Raw])]))
