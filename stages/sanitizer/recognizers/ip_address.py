"""IP_ADDRESS: IPv4 and IPv6 addresses that the `ipaddress` module accepts, with a prefix length if one
follows ("2a02:8108:1a00::/56" names a customer's line as much as an address does). Dotted numbers inside
longer dotted runs ("version 1.2.3.4.5") are no addresses. Normalized to the compressed lower-case form."""

from __future__ import annotations

import ipaddress
import re

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "IP_ADDRESS"
V4_SCORE = 0.7
V6_SCORE = 0.9

_V4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Two to eight hex groups split by colons ("::" included), optionally ending in a dotted IPv4 part and a
# zone; `ipaddress` decides ("10:15:02" is a time).
_V6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?:%[\w.]+)?"
    r"(?P<prefix>/\d{1,3})?(?![\w:]|\.\d)"
)


class IpAddressRecognizer:
    entity_type = ENTITY_TYPE
    context_words = ("ip", "ipv4", "ipv6", "host", "server")
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found: list[Detection] = []
        # IPv6 first: the IPv4 part of "::ffff:192.0.2.128" is no address of its own.
        for pattern, score in ((_V6, V6_SCORE), (_V4, V4_SCORE)):
            for match in pattern.finditer(text):
                if any(match.start() < d.end and d.start < match.end() for d in found):
                    continue
                written = match.groupdict().get("prefix") or ""
                try:
                    address = ipaddress.ip_address(match.group()[: len(match.group()) - len(written)])
                except ValueError:
                    continue
                prefix = written if written and int(written[1:]) <= address.max_prefixlen else ""
                end = match.end() - len(written) + len(prefix)
                found.append(Detection(match.start(), end, ENTITY_TYPE, score, f"{address}{prefix}"))
        return found
