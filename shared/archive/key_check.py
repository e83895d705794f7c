"""Key check values: which key a secret is, without revealing it.

A key id names a key but cannot tell two keys apart: a tokenization key replaced under the same id makes
every token differ, and a search with it finds nothing, which reads as "nothing held". So the sanitizer
stamps each page with the check value of the key it tokenized with (HMAC-SHA256 of a fixed string under
the key, the first 64 bits in hex), the archiver keeps it in each segment's metadata (and so in the
manifest), and `subject find|export|erase` compare it with the check value of the key they were given.
The value is safe to store and print: it reveals nothing about the key, and matching it takes the key.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.errors import ConfigError

_CHECK_INPUT = b"cognigy-archiver key check value"


def key_check_value(key: bytes) -> str:
    return hmac.new(key, _CHECK_INPUT, hashlib.sha256).hexdigest()[:16]


class WrongKey(ConfigError):
    """A key given under the right id that is not the key the data was made with."""

    code = "wrong_key"
