"""Settings a stage must not start with, and what its settings dump may show: a real stage process is started with
credentials in every URL setting (none reaches its log), with a key too short, and (the notifier) with webhook
URLs it must not post to; each is refused at start with the variable named and the value not shown."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from shared.errors import ConfigError
from shared.settings import Settings, load_settings, redact_url
from stages.notifier.webhooks import endpoints
from tests.archive_fixtures import cli
from tests.stages.notifier.webhook_receivers import new_secret

SECRETS = ("hook-user", "hook-pass", "tok3n-value", "sig-value", "cog-pass", "s3-pass", "frag-token")
URLS = {
    "CA_WEBHOOK_URLS": "https://hook-user:hook-pass@hooks.example.com/in?token=tok3n-value&sig=sig-value,"
                       "https://other.example.com/hook#frag-token",
    "CA_COGNIGY_BASE_URL": "https://admin:cog-pass@cognigy.example.com/api",
    "CA_S3_ENDPOINT_URL": "https://key:s3-pass@s3.example.com",
}


def settings_dump(stage: str, env: dict[str, str]) -> dict[str, object]:
    """The settings a real stage process logs as it starts (it is stopped once it has)."""
    proc = subprocess.Popen([sys.executable, "-m", "cognigy_archiver.cli", "run", stage], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", **env})
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        for line in proc.stderr:
            assert time.monotonic() < deadline, "no settings dump"
            message = json.loads(line)["msg"]
            if message.startswith(f"starting {stage} with settings "):
                dump: dict[str, object] = ast.literal_eval(message.split(" with settings ", 1)[1])  # a dict's repr
                return dump
        raise AssertionError("the process ended without a settings dump")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_no_credential_of_any_url_setting_reaches_the_settings_dump() -> None:
    dump = settings_dump("verifier", URLS)
    text = repr(dump)
    assert not [s for s in SECRETS if s in text], text
    assert dump["webhook_urls"] == ("https://***@hooks.example.com/in?token=***&sig=***,"
                                    "https://other.example.com/hook#***")
    assert dump["cognigy_base_url"] == "https://***@cognigy.example.com/api"
    assert dump["s3_endpoint_url"] == "https://***@s3.example.com"
    assert dump["kafka_bootstrap_servers"] == "127.0.0.1:1"  # not a URL: as it is


def test_redact_url_keeps_what_tells_endpoints_apart() -> None:
    assert redact_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    assert redact_url("https://u@h.example:8443/p?flag&k=v") == "https://***@h.example:8443/p?***&k=***"
    assert redact_url("https://h.example:99999/x?k=secret") == "***"  # malformed: nothing of it is shown
    assert redact_url("var/archive") == "var/archive"
    assert Settings(cognigy_base_url="https://h.example/api?key=a,b").redacted()["cognigy_base_url"] == (
        "https://h.example/api?key=***")


@pytest.mark.parametrize("field", ["CA_AUDIT_HMAC_KEY", "CA_TOKENIZATION_KEY"])
def test_a_key_too_short_is_refused_by_name(field: str) -> None:
    with pytest.raises(ConfigError, match=f"{field} is 1 bytes long; a key needs at least 32") as error:
        load_settings({field: "k"})
    assert "'k'" not in str(error.value)
    assert load_settings({field: "k" * 32}) == load_settings({field: "k" * 32})
    # ... and a stage given one does not start.
    refused = cli("run", "notifier", env={field: "short-key"})
    assert refused.returncode == 2 and f"{field} is 9 bytes long" in refused.stderr
    assert "short-key" not in refused.stderr


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///etc/passwd", "no host; give an https:// URL"),
    ("http://hooks.example.com/in", "give an https:// URL (plain http only to 127.0.0.1, ::1 or localhost)"),
    ("ftp://hooks.example.com/in", "give an https:// URL"),
    ("https://hooks.example.com:99999/in", "not a valid URL"),
])
def test_the_notifier_refuses_a_webhook_url_it_must_not_post_to(url: str, problem: str) -> None:
    env = {"CA_WEBHOOK_URLS": f"https://ok.example.com/hook,{url}",
           "CA_WEBHOOK_SECRET": f"{new_secret()},{new_secret()}", "CA_AUDIT_HMAC_KEY": "a" * 32,
           "CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    started = time.monotonic()
    refused = cli("run", "notifier", env=env)
    assert refused.returncode == 2, refused.stderr
    assert "CA_WEBHOOK_URLS entry 2" in refused.stderr and problem in refused.stderr
    assert time.monotonic() - started < 20  # refused at start, not retried


def test_plain_http_only_to_this_host_and_secrets_of_the_spec_length() -> None:
    local = ["http://127.0.0.1:8080/hook", "http://[::1]:8080/hook", "http://localhost/hook", "https://h.example/x"]
    settings = Settings(webhook_urls=",".join(local), webhook_secret=",".join(new_secret() for _ in local))
    assert [e.url for e in endpoints(settings)] == local
    short = "whsec_" + "c2hvcnQ="  # base64 of "short"
    with pytest.raises(ConfigError, match="entry 1: 5 bytes long; a secret needs at least 24"):
        endpoints(Settings(webhook_urls="https://h.example/x", webhook_secret=short))
