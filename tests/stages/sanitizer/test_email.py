from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.email import EmailRecognizer

NO_CONTEXT = TextContext()
ASKED = TextContext(expected=frozenset({"EMAIL_ADDRESS"}))


@pytest.mark.parametrize(
    ("text", "found", "normalized"),
    [
        ("mail me at jane.doe@example.com please", "jane.doe@example.com", "jane.doe@example.com"),
        ("Jane.Doe+x@Mail.Example.CO.UK.", "Jane.Doe+x@Mail.Example.CO.UK", "jane.doe+x@mail.example.co.uk"),
        ("<bob_smith@company-name.io>", "bob_smith@company-name.io", "bob_smith@company-name.io"),
        ("josé@correo.es", "josé@correo.es", "josé@correo.es"),
    ],
)
def test_finds_written_addresses(text: str, found: str, normalized: str) -> None:
    detections = EmailRecognizer().detect(text, NO_CONTEXT)
    assert [(text[d.start : d.end], d.normalized) for d in detections] == [(found, normalized)]


@pytest.mark.parametrize(
    "text",
    [
        "no email here",
        "@mention someone",
        "user@localhost",
        "version 1.2@3",
        "jane dot doe at gmail dot com",  # spelled out, but nobody asked for an email
        "look at google dot com",
    ],
)
def test_ignores_non_addresses(text: str) -> None:
    assert EmailRecognizer().detect(text, NO_CONTEXT) == []


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("jane dot doe at gmail dot com", "jane.doe@gmail.com"),
        ("it's jane.doe at gmail.com", "jane.doe@gmail.com"),
        ("JANE (at) EXAMPLE (dot) ORG", "jane@example.org"),
        ("jane@gmail dot com", "jane@gmail.com"),
    ],
)
def test_finds_spelled_out_addresses_when_asked(text: str, normalized: str) -> None:
    detections = EmailRecognizer().detect(text, ASKED)
    assert normalized in {d.normalized for d in detections}
