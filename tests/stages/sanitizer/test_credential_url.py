from __future__ import annotations

import pytest

from stages.sanitizer.recognizers.base import TextContext
from stages.sanitizer.recognizers.credential_url import CredentialUrlRecognizer

NO_CONTEXT = TextContext()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("reset via https://acme.com/reset?token=AbC123xyz.", "https://acme.com/reset?token=AbC123xyz"),
        ("(https://bob:hunter2@files.acme.com/a.csv)", "https://bob:hunter2@files.acme.com/a.csv"),
        ("www.acme.com/cb#access_token=xyz&state=1 ok", "www.acme.com/cb#access_token=xyz&state=1"),
        ("https://s3.amazonaws.com/b/k?X-Amz-Signature=abcd", "https://s3.amazonaws.com/b/k?X-Amz-Signature=abcd"),
        ("https://x.io/v2?api_key=123&lang=en", "https://x.io/v2?api_key=123&lang=en"),
        ("https://x.io/s/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N",
         "https://x.io/s/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N"),
    ],
)
def test_finds_urls_that_carry_secrets(text: str, found: str) -> None:
    detections = CredentialUrlRecognizer().detect(text, NO_CONTEXT)
    assert [text[d.start : d.end] for d in detections] == [found]
    assert detections[0].normalized == found


@pytest.mark.parametrize(
    "text",
    ["see https://acme.com/help?lang=en&page=2", "https://bob@acme.com/profile", "mail bob@acme.com",
     "https://[::1/broken"],
)
def test_ignores_urls_without_secrets(text: str) -> None:
    assert CredentialUrlRecognizer().detect(text, NO_CONTEXT) == []
