"""What a simulator serves and what goes wrong on purpose.

Faults come from the config, never from chance, so a test can name exactly what goes wrong. Counted
faults ("every Nth request") count API requests in arrival order; the `/_sim/*` routes never count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

DEMO_API_KEY = "demo-api-key-0123456789abcdef"
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"
# The variables that log a fetcher in as the demo client: the settings have no default credentials, so the demo,
# the local pipeline and the tests set these.
DEMO_CREDENTIALS = {"CA_COGNIGY_CLIENT_ID": DEMO_CLIENT_ID, "CA_COGNIGY_CLIENT_SECRET": DEMO_CLIENT_SECRET}
ALL_GRANTS = ("export:manage", "conversations:read", "odata")


class Faults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Switched on by `cognigy-archiver simulate --faults JSON` (or COGNIGY_SIM_FAULTS)."""

    throttle_every: int = 0  # every Nth API request starts a burst of 429s...
    throttle_burst: int = 1  # ...this many requests long
    retry_after: Literal["seconds", "date", "none"] = "seconds"  # how (or whether) a 429 says when to retry
    retry_after_seconds: int = 1
    error_every: int = 0  # every Nth API request answers `error_status`
    error_status: int = 503
    slow_every: int = 0  # every Nth API request answers only after `slow_seconds`
    slow_seconds: float = 0.0
    token_lifetime_seconds: float = 0.0  # tokens die this soon, whatever expires_in said (0: as said)
    flaky_checksum_pages: list[int] = []  # page indices whose checksum is wrong on the first `flaky_times` serves
    flaky_times: int = 2
    truncate_pages: list[int] = []  # page indices whose first serve is cut off after `truncate_fraction` of it
    truncate_fraction: float = 0.5
    odata_past_end_500: bool = False  # a keyset query at or past the newest record answers 500 (as observed)
    odata_datetime_literals: Literal["both", "quoted", "bare"] = "both"
    odata_max_top: int = 0  # OData answers at most this many rows whatever `$top` asks, and says nothing (0: no cap)
    odata_page_rows: int = 0  # OData answers at most this many rows, with `@odata.nextLink` to the rest (0: off)
    odata_only_version: Literal["", "v2.3", "v2.4"] = ""  # the other version's URLs answer 404 ("": both served)
    late_records: int = 0  # the newest N records are invisible to every API...
    late_seconds: float = 0.0  # ...until this long after the simulator started (analytics lag behind real time)
    live: bool = False  # a record is invisible to every API until the wall clock passes its timestamp (it arrives)
    late_every: int = 0  # every Nth record (by position in time order) is visible only...
    late_by_seconds: float = 0.0  # ...this long after its timestamp (analytics lag, record by record)
    tied_records: int = 0  # this many records from the middle of the dataset share one timestamp (a bulk import)
    job_fails_with: str = ""  # export jobs created while it is set end FAILED with this message


class SimulatorConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8780  # 0 picks a free port; run() prints the one it got
    seed: int = 7
    conversations: int = 300
    page_size: int = 50
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    # What the OAuth2 client (and a logged-in user) may be granted.
    client_scopes: list[str] = msgspec.field(default_factory=lambda: ["export:manage", "conversations:read"])
    # API key -> its user's grants (scopes and roles).
    api_keys: dict[str, list[str]] = msgspec.field(default_factory=lambda: {DEMO_API_KEY: list(ALL_GRANTS)})
    users: dict[str, str] = msgspec.field(default_factory=lambda: {"demo-user": "demo-password"})
    token_ttl_seconds: int = 3600
    job_ready_after_polls: int = 2  # the first N status polls answer PROCESSING
    corrupt_pages: list[int] = []  # 0-based page indices whose X-Content-Sha256 is always wrong
    rate_limit_requests: int = 0  # per rate_limit_window_seconds, per client address; 0 = no limit
    rate_limit_window_seconds: float = 60.0
    dataset_start: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    dataset_days: int = 30
    dataset_seconds: float = 0.0  # > 0: the dataset spans this many seconds from dataset_start instead of days
    page_delay_seconds: float = 0.0  # extra latency of each data page or transcript, like a real tenant's
    request_delay_seconds: float = 0.0  # latency of every API response
    faults: Faults = Faults()

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {self.page_size}")
        for name in ("conversations", "token_ttl_seconds", "job_ready_after_polls", "rate_limit_requests",
                     "dataset_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("odata_max_top", "odata_page_rows", "late_records", "late_seconds", "late_every",
                     "late_by_seconds", "tied_records"):
            if getattr(self.faults, name) < 0:
                raise ValueError(f"faults.{name} must be >= 0, got {getattr(self.faults, name)}")


def dataset_window(config: SimulatorConfig | None = None) -> tuple[datetime, datetime]:
    """The time window that holds the whole synthetic dataset."""
    config = config or SimulatorConfig()
    seconds = config.dataset_seconds
    span = timedelta(seconds=seconds) if seconds > 0 else timedelta(days=config.dataset_days)
    return config.dataset_start, config.dataset_start + span


def parse_faults(text: str | None) -> Faults:
    """Faults from JSON, e.g. `{"throttle_every": 20, "throttle_burst": 3, "retry_after": "none"}`."""
    if not text:
        return Faults()
    try:
        return msgspec.json.decode(text, type=Faults)
    except msgspec.DecodeError as exc:
        raise ValueError(f"faults: {exc}") from None
