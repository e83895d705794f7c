"""One settings object per process, read from environment variables.

Every setting `x` is read from `CA_X`; secrets may instead come from a mounted file named by `CA_X_FILE`.
Defaults run the local demo (local Kafka, bundled simulator, local archive). Secrets have no default
except where the demo needs one, and they never appear in `Settings.redacted()`; nor do the credentials a URL
setting may carry (`https://user:pass@host/?token=...`): `redact_url` is what any log shows of a URL.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from shared.errors import ConfigError

ENV_PREFIX = "CA_"
SECRET_FIELDS = frozenset({"kafka_sasl_password", "cognigy_client_secret", "cognigy_api_key", "cognigy_password",
                           "tokenization_key", "webhook_secret", "s3_secret_access_key", "audit_hmac_key",
                           "archive_master_key"})
# HMAC keys we ask users to generate (32 random bytes): RFC 2104 discourages keys shorter than the hash
# output, 32 bytes for SHA-256, so a shorter one is refused rather than silently weakening the MAC.
MIN_KEY_BYTES = {"tokenization_key": 32, "audit_hmac_key": 32}
HIDDEN = "***"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "cognigy-archiver."
    page_partitions: int = 4
    instance_id: str = ""
    transaction_timeout_ms: int = 20_000
    # The largest message a stage sends (shared/kafka/clients.py): producers, consumer fetch sizes and the topics'
    # max.message.bytes (`topics create`) follow it; a page over it is dead-lettered and its export partial.
    kafka_max_message_bytes: int = 8 * 1024 * 1024
    shutdown_grace_seconds: float = 30.0
    # Kafka security, passed through to aiokafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL;
    # SASL mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; TLS files in PEM.
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    # Cognigy (the fetcher)
    cognigy_base_url: str = "http://127.0.0.1:8780"
    cognigy_client_id: str = "demo-client"
    cognigy_client_secret: str = "demo-secret"
    cognigy_poll_interval_seconds: float = 0.2
    cognigy_timeout_seconds: float = 30.0
    cognigy_auth: Literal["oauth2", "api_key", "password"] = "oauth2"
    cognigy_scope: str = ""  # OAuth2/login scopes to ask for, space-separated; empty = the client's default
    cognigy_token_url: str = ""  # the OAuth2 token endpoint; empty = <cognigy_base_url>/auth/oauth2/token
    cognigy_api_key: str = ""
    cognigy_api_key_in: Literal["header", "query"] = "header"
    cognigy_username: str = ""
    cognigy_password: str = ""
    cognigy_odata_url: str = ""  # empty = cognigy_base_url
    cognigy_odata_version: Literal["v2.3", "v2.4"] = "v2.4"
    cognigy_odata_top: int = 1000
    cognigy_page_records: int = 50  # records per page for the OData source (export jobs page server-side)
    # How long Cognigy may take to make a record visible (its analytics are not real time): a window is read
    # only once its end is this far in the past; an export whose window ends later waits until then.
    cognigy_settle_seconds: float = 600.0
    cognigy_rate_limit_requests: int = 1000  # Cognigy's documented limit: 1,000 requests per 5 minutes
    cognigy_rate_limit_period_seconds: float = 300.0
    cognigy_max_concurrency: int = 4
    cognigy_max_attempts: int = 6
    cognigy_retry_budget_seconds: float = 300.0
    cognigy_backoff_cap_seconds: float = 30.0
    # How long the tenant keeps conversations (Cognigy's default: 30 days): the scheduler warns as its oldest
    # unarchived window nears it.
    cognigy_retention_days: float = 30.0
    max_window_days: int = 365
    max_session_ids: int = 500
    # Scheduler (continuous archiving, stages/scheduler): the schedule `continuous`, windows from `schedule_since`
    # (empty: the retention period back from the first start), each re-reading `schedule_overlap_seconds` of the
    # windows before it for records that became visible late.
    schedule_since: str = ""
    schedule_window_seconds: float = 3600.0
    schedule_overlap_seconds: float = 3600.0
    schedule_source: Literal["export_job", "odata"] = "export_job"
    schedule_pii_rules: str = "ALL:tokenize"  # TYPE:ACTION[:MIN_LENGTH], comma-separated, as `export submit --rule`
    schedule_format: Literal["jsonl", "csv"] = "jsonl"
    schedule_retry_base_seconds: float = 60.0  # a failed window is resubmitted after this, doubling to the cap
    schedule_retry_max_seconds: float = 3600.0
    schedule_tick_seconds: float = 5.0
    schedule_catchup_windows: int = 24  # while behind, this many settled windows go as one export
    # Sanitizer
    tokenization_key: str = ""
    tokenization_key_id: str = "k1"
    spacy_model: str = "auto"
    sanitizer_workers: int = 0  # processes that find PII; 0 = one per CPU this process may use
    phone_regions: str = "US,GB,DE,FR"  # where phone numbers without a country code are read, in order
    pii_allow_list: str = ""  # comma-separated words and phrases that are never PII (your brand names)
    # The languages conversations may be in (ISO 639-1, comma-separated; the first is the default for a
    # session too short to tell): each is read with its own cues, number words and NER model.
    pii_languages: str = "en,de,fr,es,it,nl,pl"
    pii_bare_answers: bool = True  # a short answer to a question for personal data is redacted as that type
    # Archiver
    archive_backend: Literal["filesystem", "s3"] = "filesystem"
    archive_dir: str = "var/archive"  # the filesystem backend's root
    s3_bucket: str = ""
    s3_prefix: str = ""  # a folder inside the bucket for the whole archive
    s3_endpoint_url: str = ""  # empty = AWS; set it for another S3-compatible store
    s3_region: str = ""
    s3_access_key_id: str = ""  # both empty = the AWS credential chain (environment, IAM role)
    s3_secret_access_key: str = ""
    archive_dictionary: str = "builtin"  # zstd dictionary for JSONL segments: builtin, none or a file path
    archive_expire_interval_seconds: float = 0.0  # > 0: the archiver also deletes expired exports this often
    # Encryption at rest (shared/archive/encryption.py): "aes-256-gcm" encrypts every segment under its export's data
    # key; data keys are wrapped by the master key (base64 of 32 bytes) and kept in the key store, a
    # directory or s3://bucket/prefix that must live apart from the archive and its backups: destroying an
    # export's wrapped key (`archive expire`) makes every copy of its segments unreadable.
    archive_encryption: Literal["none", "aes-256-gcm"] = "none"
    archive_master_key: str = ""
    archive_master_key_id: str = "m1"
    archive_key_store: str = "var/keys"
    # Notifier
    webhook_urls: str = ""
    webhook_secret: str = ""  # one per URL, comma-separated; "new old" (space-separated) signs with both
    webhook_events: str = ""  # event types to send, comma-separated; empty = all
    webhook_timeout_seconds: float = 15.0
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_max_seconds: float = 36_000.0
    audit_log_path: str = "var/audit/audit.jsonl"
    audit_hmac_key: str = ""
    # Operations: logs, and the /healthz, /readyz, /metrics server (0 = off, for several stages on one host),
    # on this host only unless `health_host` says otherwise (a container's probes and scrapers come from outside
    # it: 0.0.0.0 there, with the network policy limiting who may connect).
    log_level: str = "INFO"
    health_port: int = 0
    health_host: str = "127.0.0.1"

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def group_id(self, stage: str) -> str:
        return f"{self.topic_prefix}{stage}"

    def transactional_id(self, stage: str) -> str:
        # Stable across restarts of the same instance, so a restarted process fences its zombie and
        # aborts the transaction the dead one left open (read_committed readers wait on it otherwise).
        instance = self.instance_id or socket.gethostname()
        return f"{self.topic_prefix}{stage}-{instance}"

    @property
    def webhook_url_list(self) -> list[str]:
        return [u.strip() for u in self.webhook_urls.split(",") if u.strip()]

    @property
    def phone_region_list(self) -> list[str]:
        return [r.strip().upper() for r in self.phone_regions.split(",") if r.strip()]

    @property
    def pii_language_list(self) -> list[str]:
        return [code.strip().lower() for code in self.pii_languages.split(",") if code.strip()]

    @property
    def pii_allow_phrases(self) -> list[str]:
        return [p.strip() for p in self.pii_allow_list.split(",") if p.strip()]

    @property
    def archive_path(self) -> Path:
        return Path(self.archive_dir)

    def require(self, *fields: str) -> None:
        missing = [f for f in fields if not getattr(self, f)]
        if missing:
            names = ", ".join(env_name(f) for f in missing)
            raise ConfigError(f"required setting(s) not set: {names} (or the matching *_FILE)")

    def redacted(self) -> dict[str, Any]:
        """Every setting, fit for a log: secrets hidden, and every URL (whatever the setting) redacted."""
        values = msgspec.structs.asdict(self)
        return {k: HIDDEN if k in SECRET_FIELDS and v else redact_urls(v) if isinstance(v, str) else v
                for k, v in values.items()}


def redact_url(url: str) -> str:
    """`url` as a log may show it: the userinfo, each query value and the fragment (any may hold a token)
    become ***; scheme, host, port and path stay, to tell endpoints apart. Not a URL: returned as it is."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return HIDDEN  # cannot tell which part is secret
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    shown = f"{parts.scheme}://{HIDDEN + '@' if '@' in parts.netloc else ''}{host}{parts.path}"
    if parts.query:
        shown += "?" + "&".join(f"{item.partition('=')[0]}={HIDDEN}" if "=" in item else HIDDEN
                                for item in parts.query.split("&"))
    return shown + (f"#{HIDDEN}" if parts.fragment else "")


def redact_urls(value: str) -> str:
    """A setting's value with each URL in it redacted: a comma-separated list of URLs item by item, anything
    else holding a URL as one (a comma in a query value must not let the rest of it through)."""
    if "://" not in value:
        return value
    items = value.split(",")
    if all("://" in item for item in items if item.strip()):
        return ",".join(redact_url(item) if item.strip() else item for item in items)
    return redact_url(value)


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def env_names() -> list[str]:
    """Every environment variable the settings read (deployment manifests are checked against it)."""
    names = [env_name(f) for f in Settings.__struct_fields__]
    names += [env_name(f) + "_FILE" for f in sorted(SECRET_FIELDS)]
    return names


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for field in Settings.__struct_fields__:
        name = env_name(field)
        if field in SECRET_FIELDS and name + "_FILE" in env:
            path = Path(env[name + "_FILE"])
            try:
                raw[field] = path.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
        elif name in env:
            raw[field] = env[name]
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec names the offending field as `$.field`; show the variable the user actually sets.
        text = str(exc)
        for field in Settings.__struct_fields__:
            text = text.replace(f"$.{field}", env_name(field))
        raise ConfigError(f"invalid setting: {text}") from None
    check_keys(settings)
    return settings


def check_keys(settings: Settings) -> None:
    """Refuse a key set too short to be safe (the message names the variable, never the value)."""
    for field, minimum in MIN_KEY_BYTES.items():
        size = len(getattr(settings, field).encode())
        if 0 < size < minimum:
            raise ConfigError(f"{env_name(field)} is {size} bytes long; a key needs at least {minimum} "
                              "(generate one with: head -c 32 /dev/urandom | base64)")
