"""The settings a process loads, one msgspec Struct per concern, read from environment variables.

`Settings` composes the groups: `kafka`, `cognigy`, `schedule`, `pii` (the sanitizer), `archive` (with `s3` inside
it), `iceberg`, `webhooks`, `audit` and `operations`. A group's field `x` is read from `CA_<PREFIX>X`, its prefix being
the group's `ENV_PREFIX` (`CA_COGNIGY_BASE_URL` is `cognigy.base_url`, `CA_S3_BUCKET` is `archive.s3.bucket`); the few
variables that do not start with their group's prefix are listed in its `ENV_NAMES` (`CA_TOPIC_PREFIX` is
`kafka.topic_prefix`). `env_name("kafka.topic_prefix")` gives the variable of any field. Every process loads the whole
`Settings`, not a struct of its own: the stages share most groups (all of them `kafka` and `operations`; the
archiver, the notifier and the archive commands `archive` and `audit`), and one type keeps `run(settings, stop)`
the same for every stage.

Secrets are `Secret`s: read from `CA_X`, or from a mounted file named by `CA_X_FILE`; their repr and str are ***, so
no log line, exception or `Settings.redacted()` can show one, and the code that uses one calls `reveal()`. No secret
has a default: the demo and the local tooling set the simulator's credentials themselves. Defaults otherwise run
the local demo (local Kafka, bundled simulator, local archive). Nor do the credentials a URL setting may carry
(`https://user:pass@host/?token=...`) appear: `redact_url` is what any log shows of a URL.
"""

import hmac
import os
import socket
from collections.abc import Iterator, Mapping
from functools import reduce
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import msgspec

from shared.errors import ConfigError
from shared.messages import OutputFormat

ENV_PREFIX = "CA_"
HIDDEN = "***"


class Secret:
    """A secret value that cannot be printed: repr, str and format show ***; `reveal()` is the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return HIDDEN


NO_SECRET = Secret()


class Group(msgspec.Struct, frozen=True, kw_only=True):
    """The settings of one concern: field `x` is read from `CA_<ENV_PREFIX>X`, or from `CA_<ENV_NAMES[x]>`."""

    ENV_PREFIX: ClassVar[str] = ""
    ENV_NAMES: ClassVar[Mapping[str, str]] = {}


class KafkaSettings(Group, frozen=True, kw_only=True):
    ENV_PREFIX = "KAFKA_"
    ENV_NAMES = {"topic_prefix": "TOPIC_PREFIX", "page_partitions": "PAGE_PARTITIONS", "instance_id": "INSTANCE_ID",
                 "transaction_timeout_ms": "TRANSACTION_TIMEOUT_MS",
                 "shutdown_grace_seconds": "SHUTDOWN_GRACE_SECONDS"}

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "cognigy-archiver."
    page_partitions: int = 4
    instance_id: str = ""
    transaction_timeout_ms: int = 20_000
    # The largest message a stage sends (shared/kafka/clients.py): producers, consumer fetch sizes and the topics'
    # max.message.bytes (`topics create`) follow it; a page over it is dead-lettered and its export partial.
    max_message_bytes: int = 8 * 1024 * 1024
    shutdown_grace_seconds: float = 30.0
    # Kafka security, passed through to aiokafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL;
    # SASL mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; TLS files in PEM.
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: Secret = NO_SECRET
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def group_id(self, stage: str) -> str:
        return f"{self.topic_prefix}{stage}"

    def transactional_id(self, stage: str) -> str:
        # Stable across restarts of the same instance, so a restarted process fences its zombie and
        # aborts the transaction the dead one left open (read_committed readers wait on it otherwise).
        instance = self.instance_id or socket.gethostname()
        return f"{self.topic_prefix}{stage}-{instance}"


class CognigySettings(Group, frozen=True, kw_only=True):
    """The fetcher's source."""

    ENV_PREFIX = "COGNIGY_"
    ENV_NAMES = {"max_window_days": "MAX_WINDOW_DAYS", "max_session_ids": "MAX_SESSION_IDS"}

    base_url: str = "http://127.0.0.1:8780"
    client_id: str = ""
    client_secret: Secret = NO_SECRET
    poll_interval_seconds: float = 0.2
    timeout_seconds: float = 30.0
    auth: Literal["oauth2", "api_key", "password"] = "oauth2"
    scope: str = ""  # OAuth2/login scopes to ask for, space-separated; empty = the client's default
    token_url: str = ""  # the OAuth2 token endpoint; empty = <base_url>/auth/oauth2/token
    api_key: Secret = NO_SECRET
    api_key_in: Literal["header", "query"] = "header"
    username: str = ""
    password: Secret = NO_SECRET
    odata_url: str = ""  # empty = base_url
    odata_version: Literal["v2.3", "v2.4"] = "v2.4"
    odata_top: int = 1000
    page_records: int = 50  # records per page for the OData source (export jobs page server-side)
    # How long Cognigy may take to make a record visible (its analytics are not real time): a window is read
    # only once its end is this far in the past; an export whose window ends later waits until then.
    settle_seconds: float = 600.0
    rate_limit_requests: int = 1000  # Cognigy's documented limit: 1,000 requests per 5 minutes
    rate_limit_period_seconds: float = 300.0
    max_concurrency: int = 4
    max_attempts: int = 6
    retry_budget_seconds: float = 300.0
    backoff_cap_seconds: float = 30.0
    # How long the tenant keeps conversations (Cognigy's default: 30 days): the scheduler warns as its oldest
    # unarchived window nears it.
    retention_days: float = 30.0
    max_window_days: int = 365
    max_session_ids: int = 500


class ScheduleSettings(Group, frozen=True, kw_only=True):
    """Continuous archiving (stages/scheduler): the schedule `continuous`, windows from `since` (empty: the
    retention period back from the first start), each re-reading `overlap_seconds` of the windows before it for
    records that became visible late."""

    ENV_PREFIX = "SCHEDULE_"

    since: str = ""
    window_seconds: float = 3600.0
    overlap_seconds: float = 3600.0
    source: Literal["export_job", "odata"] = "export_job"
    pii_rules: str = "ALL:tokenize"  # TYPE:ACTION[:MIN_LENGTH], comma-separated, as `export submit --rule`
    format: OutputFormat = "parquet"
    retry_base_seconds: float = 60.0  # a failed window is resubmitted after this, doubling to the cap
    retry_max_seconds: float = 3600.0
    tick_seconds: float = 5.0
    catchup_windows: int = 24  # while behind, this many settled windows go as one export


class PiiSettings(Group, frozen=True, kw_only=True):
    """The sanitizer: finding PII and replacing it."""

    ENV_PREFIX = "PII_"
    ENV_NAMES = {"tokenization_key": "TOKENIZATION_KEY", "tokenization_key_id": "TOKENIZATION_KEY_ID",
                 "spacy_model": "SPACY_MODEL", "workers": "SANITIZER_WORKERS", "phone_regions": "PHONE_REGIONS"}

    tokenization_key: Secret = NO_SECRET
    tokenization_key_id: str = "k1"
    spacy_model: str = "auto"
    workers: int = 0  # processes that find PII; 0 = one per CPU this process may use
    phone_regions: str = "US,GB,DE,FR"  # where phone numbers without a country code are read, in order
    allow_list: str = ""  # comma-separated words and phrases that are never PII (your brand names)
    # The languages conversations may be in (ISO 639-1, comma-separated; the first is the default for a
    # session too short to tell): each is read with its own cues, number words and NER model.
    languages: str = "en,de,fr,es,it,nl,pl"
    bare_answers: bool = True  # a short answer to a question for personal data is redacted as that type

    @property
    def phone_region_list(self) -> list[str]:
        return [region.upper() for region in comma_list(self.phone_regions)]

    @property
    def language_list(self) -> list[str]:
        return [code.lower() for code in comma_list(self.languages)]

    @property
    def allow_phrases(self) -> list[str]:
        return comma_list(self.allow_list)


class S3Settings(Group, frozen=True, kw_only=True):
    ENV_PREFIX = "S3_"

    bucket: str = ""
    prefix: str = ""  # a folder inside the bucket for the whole archive
    endpoint_url: str = ""  # empty = AWS; set it for another S3-compatible store
    region: str = ""
    access_key_id: str = ""  # both empty = the AWS credential chain (environment, IAM role)
    secret_access_key: Secret = NO_SECRET


class ArchiveSettings(Group, frozen=True, kw_only=True):
    """Where and how the archiver writes. Encryption at rest (shared/archive/encryption.py): "aes-256-gcm"
    encrypts every segment under its export's data key; data keys are wrapped by the master key (base64 of 32
    bytes) and kept in the key store, a directory or s3://bucket/prefix that must live apart from the archive and
    its backups: destroying an export's wrapped key (`archive expire`) makes every copy of its segments
    unreadable."""

    ENV_PREFIX = "ARCHIVE_"

    backend: Literal["filesystem", "s3"] = "filesystem"
    dir: str = "var/archive"  # the filesystem backend's root
    s3: S3Settings = msgspec.field(default_factory=S3Settings)
    dictionary: str = "builtin"  # zstd dictionary for JSONL segments: builtin, none or a file path
    # Parquet files (stages/archiver/file_windows.py): the input offsets a file can span, the pages' message
    # bytes at which a file is cut before its window ends, and Parquet row groups
    parquet_window_offsets: int = 2000
    parquet_target_mb: int = 16
    parquet_row_group_records: int = 100_000
    expire_interval_seconds: float = 0.0  # > 0: the archiver also deletes expired exports this often
    encryption: Literal["none", "aes-256-gcm"] = "none"
    master_key: Secret = NO_SECRET
    master_key_id: str = "m1"
    key_store: str = "var/keys"

    @property
    def path(self) -> Path:
        return Path(self.dir)


class IcebergSettings(Group, frozen=True, kw_only=True):
    """The optional Apache Iceberg table over the Parquet archive (shared/archive/iceberg_table.py; the `iceberg`
    extra): `catalog` none (off), sql (SQLAlchemy; default a SQLite file in the warehouse), rest or glue. The
    table's metadata goes to `warehouse` (a folder or an s3:// URL); its data files stay where the archive has
    them, read with the archive's S3 settings."""

    ENV_PREFIX = "ICEBERG_"

    catalog: Literal["none", "sql", "rest", "glue"] = "none"
    catalog_uri: str = ""  # sql: a SQLAlchemy URL (empty = sqlite:///<warehouse>/catalog.db); rest: its URL
    warehouse: str = "var/iceberg"
    namespace: str = "cognigy_archiver"
    table: str = "records"
    rest_credential: Secret = NO_SECRET  # the REST catalog's OAuth2 client credentials, "<id>:<secret>"
    rest_token: Secret = NO_SECRET  # or a bearer token
    glue_region: str = ""  # empty = the AWS default chain's


class WebhookSettings(Group, frozen=True, kw_only=True):
    """The notifier's signed webhooks."""

    ENV_PREFIX = "WEBHOOK_"

    urls: str = ""
    secret: Secret = NO_SECRET  # one per URL, comma-separated; "new old" (space-separated) signs with both
    events: str = ""  # event types to send, comma-separated; empty = all
    timeout_seconds: float = 15.0
    max_attempts: int = 8
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 36_000.0

    @property
    def url_list(self) -> list[str]:
        return comma_list(self.urls)


class AuditSettings(Group, frozen=True, kw_only=True):
    ENV_PREFIX = "AUDIT_"

    log_path: str = "var/audit/audit.jsonl"
    hmac_key: Secret = NO_SECRET


class OperationsSettings(Group, frozen=True, kw_only=True):
    """Logs, and the /healthz, /readyz, /metrics server (0 = off, for several stages on one host), on this host
    only unless `health_host` says otherwise (a container's probes and scrapers come from outside it: 0.0.0.0
    there, with the network policy limiting who may connect)."""

    log_level: str = "INFO"
    health_port: int = 0
    health_host: str = "127.0.0.1"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    kafka: KafkaSettings = msgspec.field(default_factory=KafkaSettings)
    cognigy: CognigySettings = msgspec.field(default_factory=CognigySettings)
    schedule: ScheduleSettings = msgspec.field(default_factory=ScheduleSettings)
    pii: PiiSettings = msgspec.field(default_factory=PiiSettings)
    archive: ArchiveSettings = msgspec.field(default_factory=ArchiveSettings)
    iceberg: IcebergSettings = msgspec.field(default_factory=IcebergSettings)
    webhooks: WebhookSettings = msgspec.field(default_factory=WebhookSettings)
    audit: AuditSettings = msgspec.field(default_factory=AuditSettings)
    operations: OperationsSettings = msgspec.field(default_factory=OperationsSettings)

    def value(self, path: str) -> Any:
        """The setting at a dotted `path` ("kafka.topic_prefix")."""
        return reduce(getattr, path.split("."), self)

    def require(self, *paths: str) -> None:
        missing = [p for p in paths if not self.value(p)]
        if missing:
            names = ", ".join(env_name(p) for p in missing)
            raise ConfigError(f"required setting(s) not set: {names} (or the matching *_FILE)")

    def secret_values(self) -> list[str]:
        """The value of every secret that is set (to scrub from what a server echoes back)."""
        return [secret.reveal() for path in SECRETS if (secret := self.value(path))]

    def redacted(self) -> dict[str, Any]:
        """Every setting, fit for a log: secrets hidden, and every URL (whatever the setting) redacted. Keyed by
        the variable without its CA_, in lower case (`cognigy_base_url`), as operators set it."""
        shown: dict[str, Any] = {}
        for path, name in VARIABLES.items():
            v = self.value(path)
            shown[name.removeprefix(ENV_PREFIX).lower()] = ((HIDDEN if v else "") if isinstance(v, Secret)
                           else redact_urls(v) if isinstance(v, str) else v)
        return shown


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


def comma_list(value: str) -> list[str]:
    """The items of a comma-separated setting, stripped, empty ones left out."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _fields(cls: type[msgspec.Struct], path: str) -> Iterator[tuple[str, str, bool]]:
    """(dotted path, variable, is a secret) of each leaf field under `cls`, groups inside groups included."""
    for f in msgspec.structs.fields(cls):
        inner = f"{path}{f.name}"
        if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct):
            yield from _fields(f.type, inner + ".")
        else:
            assert issubclass(cls, Group)
            yield inner, ENV_PREFIX + cls.ENV_NAMES.get(f.name, cls.ENV_PREFIX + f.name.upper()), f.type is Secret


VARIABLES = {path: name for path, name, _ in _fields(Settings, "")}  # dotted path -> variable
SECRETS = frozenset(path for path, _, secret in _fields(Settings, "") if secret)
# HMAC keys we ask users to generate (32 random bytes): RFC 2104 discourages keys shorter than the hash
# output, 32 bytes for SHA-256, so a shorter one is refused rather than silently weakening the MAC.
MIN_KEY_BYTES = {"pii.tokenization_key": 32, "audit.hmac_key": 32}


def env_name(path: str) -> str:
    """The variable a setting is read from, by its dotted path."""
    return VARIABLES[path]


def env_names() -> list[str]:
    """Every environment variable the settings read (deployment manifests are checked against it)."""
    return [*VARIABLES.values(), *sorted(VARIABLES[p] + "_FILE" for p in SECRETS)]


def _secret(type_: type, value: Any) -> Any:
    if type_ is Secret and isinstance(value, str):
        return Secret(value)
    raise NotImplementedError


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for path, name in VARIABLES.items():
        if path in SECRETS and name + "_FILE" in env:
            file = Path(env[name + "_FILE"])
            try:
                value = file.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {file}: {exc.strerror}") from None
        elif name in env:
            value = env[name]
        else:
            continue
        *groups, leaf = path.split(".")
        reduce(lambda d, g: d.setdefault(g, {}), groups, raw)[leaf] = value
    try:
        settings = msgspec.convert(raw, Settings, strict=False, dec_hook=_secret)
    except msgspec.ValidationError as exc:
        # msgspec names the offending field as `$.group.field`; show the variable the user actually sets.
        text = str(exc)
        for path in sorted(VARIABLES, key=len, reverse=True):
            text = text.replace(f"$.{path}", VARIABLES[path])
        raise ConfigError(f"invalid setting: {text}") from None
    check_keys(settings)
    return settings


def check_keys(settings: Settings) -> None:
    """Refuse a key set too short to be safe (the message names the variable, never the value)."""
    for path, minimum in MIN_KEY_BYTES.items():
        size = len(settings.value(path).reveal().encode())
        if 0 < size < minimum:
            raise ConfigError(f"{env_name(path)} is {size} bytes long; a key needs at least {minimum} "
                              "(generate one with: head -c 32 /dev/urandom | base64)")
