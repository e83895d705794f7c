from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.ip_address import IpAddressRecognizer

NO_CONTEXT = TextContext()


@pytest.mark.parametrize(
    ("text", "found", "normalized"),
    [
        ("my IP is 203.0.113.42.", "203.0.113.42", "203.0.113.42"),
        ("login from 2001:DB8:0:0:0:0:0:1 at 10:15:02", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("server fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
        ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128", "::ffff:c000:280"),
    ],
)
def test_finds_addresses(text: str, found: str, normalized: str) -> None:
    detections = IpAddressRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, normalized)]


@pytest.mark.parametrize(
    "text",
    ["version 1.2.3.4.5", "999.1.1.1", "at 10:15:02", "MAC 00:1A:2B:3C:4D:5E", "price 1.299.00", "v1.2.3"],
)
def test_ignores_look_alikes(text: str) -> None:
    assert IpAddressRecognizer().detect(text, NO_CONTEXT) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [("my line is 2001:db8:4c1a:9e00::/56 ok", "2001:db8:4c1a:9e00::/56"),
     ("Ihr Präfix lautet 2a01:598:b1c2:40f0::/64.", "2a01:598:b1c2:40f0::/64"),
     ("host ::1/200 is odd", "::1")],
)
def test_an_ipv6_network_keeps_its_prefix_length(text: str, found: str) -> None:
    assert [text[d.start : d.end] for d in IpAddressRecognizer().detect(text, TextContext())] == [found]
