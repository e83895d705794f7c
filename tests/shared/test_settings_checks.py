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
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, get_args, get_origin

import msgspec
import pytest

from shared.errors import ConfigError
from shared.settings import (
    SECRETS,
    VARIABLES,
    CognigySettings,
    Group,
    Secret,
    Settings,
    env_name,
    env_names,
    load_settings,
    redact_url,
)
from stages.notifier.webhooks import endpoints
from tests.archive_fixtures import cli
from tests.stages.notifier.webhook_receivers import new_secret, webhook_settings

URL_CREDENTIALS = ("hook-user", "hook-pass", "tok3n-value", "sig-value", "cog-pass", "s3-pass", "frag-token")
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
    assert not [s for s in URL_CREDENTIALS if s in text], text
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
    settings = Settings(cognigy=CognigySettings(base_url="https://h.example/api?key=a,b"))
    assert settings.redacted()["cognigy_base_url"] == "https://h.example/api?key=***"


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
    settings = webhook_settings(",".join(local), ",".join(new_secret() for _ in local))
    assert [e.url for e in endpoints(settings)] == local
    short = "whsec_" + "c2hvcnQ="  # base64 of "short"
    with pytest.raises(ConfigError, match="entry 1: 5 bytes long; a secret needs at least 24"):
        endpoints(webhook_settings("https://h.example/x", short))


def sample(kind: object, index: int) -> tuple[str, object]:
    """A value for a setting of this type unlike any default (text as a variable holds it, and as read)."""
    if kind is bool:
        return "false", False
    if kind in (int, float):
        return str(1000 + index), kind(1000 + index)
    if get_origin(kind) is Literal:
        choice = get_args(kind)[-1]
        return choice, choice
    text = f"value-{index}-" + "x" * 32  # long enough for any key
    return text, Secret(text) if kind is Secret else text


def test_each_variable_sets_its_own_field_named_by_its_group_prefix_or_the_groups_table() -> None:
    def leaves(cls: type[msgspec.Struct], path: str) -> Iterator[tuple[str, type[Group], object]]:
        for f in msgspec.structs.fields(cls):
            if isinstance(f.type, type) and issubclass(f.type, Group):
                yield from leaves(f.type, f"{path}{f.name}.")
            else:
                assert issubclass(cls, Group)
                yield path + f.name, cls, f.type

    found = list(leaves(Settings, ""))
    assert [path for path, _, _ in found] == list(VARIABLES)
    env, expected = {}, {}
    for index, (path, group, kind) in enumerate(found):
        field = path.rpartition(".")[2]
        assert env_name(path) == "CA_" + group.ENV_NAMES.get(field, group.ENV_PREFIX + field.upper())
        env[env_name(path)], expected[path] = sample(kind, index)
    assert set(env) | {f"{env_name(p)}_FILE" for p in SECRETS} == set(env_names())
    loaded = load_settings(env)
    assert {path: loaded.value(path) for path in VARIABLES} == expected


def test_a_secret_is_never_printed_and_reveals_its_value_only_when_asked(tmp_path: Path) -> None:
    key_file = tmp_path / "tokenization.key"
    key_file.write_text("file-held-key-" + "f" * 32 + "\n")
    settings = load_settings({"CA_AUDIT_HMAC_KEY": "audit-key-" + "a" * 32, "CA_TOKENIZATION_KEY_FILE": str(key_file),
                              "CA_WEBHOOK_SECRET": "whsec_hidden", "CA_KAFKA_SASL_PASSWORD": "kafka-pass"})
    assert settings.audit.hmac_key.reveal() == "audit-key-" + "a" * 32
    assert settings.pii.tokenization_key.reveal() == "file-held-key-" + "f" * 32
    error = ConfigError(f"bad key {settings.pii.tokenization_key} in {settings!r}")
    shown = [repr(settings), str(settings), f"{settings.audit.hmac_key}", f"{settings.webhooks.secret:>20}",
             str(error), repr(settings.redacted()), repr([settings.kafka.sasl_password])]
    for text in shown:
        assert not [word for word in ("audit-key", "file-held", "whsec_hidden", "kafka-pass") if word in text], text
    assert settings.redacted()["kafka_sasl_password"] == "***" and settings.redacted()["cognigy_api_key"] == ""
    assert sorted(settings.secret_values()) == sorted(["kafka-pass", "file-held-key-" + "f" * 32,
                                                       "whsec_hidden", "audit-key-" + "a" * 32])


def test_no_credential_has_a_default_and_the_fetcher_names_the_ones_it_lacks() -> None:
    defaults = Settings()
    assert not [path for path in SECRETS if defaults.value(path)]
    assert defaults.cognigy.client_id == ""
    refused = cli("run", "fetcher", env={"CA_COGNIGY_AUTH": "oauth2", "CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert refused.returncode == 2, refused.stderr
    assert ("required setting(s) not set: CA_COGNIGY_CLIENT_ID, CA_COGNIGY_CLIENT_SECRET (or the matching *_FILE)"
            in refused.stderr)
