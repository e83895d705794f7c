"""Export ids are validated once, where they enter: the request check, and the decoding of every message
that carries one, so a forged message with an id like `..` or `.` is refused on any topic. The store's key
check stays as a second line, and a key it refuses is not a (retried) storage error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from shared import messages
from shared.archive.storage import FilesystemStore, InvalidObjectKey, StorageError
from shared.archive.storage.base import check_key
from shared.errors import ValidationFailed
from shared.export_requests import validate_export_request
from shared.messages import (
    DeadLetter,
    ExportOptions,
    ExportRequest,
    ExportStatus,
    ExportTotal,
    FetchCheckpoint,
    FetchedIds,
    FetchFailed,
    FetchPaused,
    PageProgress,
    PiiRule,
    RawPage,
    SanitizedPage,
    ScheduledWindow,
    SegmentWritten,
    TimeWindow,
    VerifiedPage,
    decode,
    encode,
)
from shared.settings import Settings
from stages.notifier import changelog
from stages.notifier import messages as notifier_messages
from stages.notifier.changelog import NotifierState
from stages.notifier.messages import DeliveryOutcome

BAD_IDS = [".", "..", "...", ".hidden", "-x", "a/b", "a\\b", "exp\n", "", "x" * 65, "exp:1", "ex p"]
NOW = datetime(2026, 10, 1, tzinfo=UTC)
OPTIONS = ExportOptions(pii_rules=[PiiRule(entity_type="ALL")])

SAMPLES: list[msgspec.Struct] = [
    ExportRequest(export_id="exp-1", window=TimeWindow(datetime(2026, 9, 1, tzinfo=UTC), NOW), options=OPTIONS),
    RawPage(export_id="exp-1", page_index=0, body=b"{}", source_sha256="0", fetched_at=NOW, options=OPTIONS),
    ExportTotal(export_id="exp-1", total_pages=1, total_records=1, started_at=NOW),
    VerifiedPage(export_id="exp-1", page_index=0, records=[], sha256="0", options=OPTIONS),
    SanitizedPage(export_id="exp-1", page_index=0, records=[], redactions=[], key_id="k1", options=OPTIONS),
    SegmentWritten(export_id="exp-1", page_index=0, object_key=None, sha256=None, bytes=0, records=0,
                   redactions=[], source_topic="t", source_partition=0, source_offset=0),
    ExportStatus(export_id="exp-1", stage="fetcher", state="fetching", updated_at=NOW),
    PageProgress(export_id="exp-1", stage="verifier", page_index=0, records=1, at=NOW),
    FetchCheckpoint(export_id="exp-1", job_id="j", next_page_index=0, resume_token=None, records=0, started_at=NOW),
    DeadLetter(stage="verifier", reason="r", error_type="E", source_topic="t", source_partition=0, source_offset=0,
               key=None, value=None, export_id="exp-1"),
    NotifierState(export_id="exp-1"),
    FetchFailed(export_id="exp-1", attempt="0:7", error="source_error", reason="r", failed_at=NOW),
    FetchPaused(export_id="exp-1", attempt="0:7"),
    DeliveryOutcome(export_id="exp-1", msg_id="m", url="https://example.com", attempt=1, state="delivered",
                    status=200, detail="", next_attempt_at=NOW),
    FetchedIds(scope="continuous", export_id="exp-1", page_index=0, ids=["r1"], newest=NOW),
    ScheduledWindow(export_id="exp-1", start=NOW, end=NOW, read_from=NOW, remember_from=NOW, submitted_at=NOW),
]


def test_every_message_with_an_export_id_is_covered() -> None:
    carrying = {cls for module in (messages, changelog, notifier_messages) for cls in vars(module).values()
                if isinstance(cls, type) and issubclass(cls, msgspec.Struct) and cls is not msgspec.Struct
                and "export_id" in cls.__struct_fields__}
    assert carrying == {type(sample) for sample in SAMPLES}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_a_message_with_a_bad_export_id_does_not_decode(sample: msgspec.Struct) -> None:
    assert decode(encode(sample), type(sample)) == sample
    for bad in BAD_IDS:
        forged = encode(msgspec.structs.replace(sample, export_id=bad))  # the constructor does not validate
        with pytest.raises(msgspec.ValidationError, match=r"export_id"):
            decode(forged, type(sample))


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_request_with_a_bad_export_id_is_refused_by_name(bad: str) -> None:
    request = msgspec.structs.replace(SAMPLES[0], export_id=bad)
    with pytest.raises(ValidationFailed) as caught:
        validate_export_request(request, Settings())  # type: ignore[arg-type]
    assert [p["field"] for p in caught.value.details["problems"]] == ["export_id"]


def test_good_export_ids_pass() -> None:
    for good in ("exp-0123456789abcdef", "2026.10_case-17", "A", "x" * 64, "a..b"):
        validate_export_request(msgspec.structs.replace(SAMPLES[0], export_id=good), Settings())  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [".", "./manifest.json", "exp/./x", "..", "exp/../x", "exp//x", "exp/", "/abs",
                                 "a\\b", "a\0b", ""])
async def test_the_store_refuses_keys_that_resolve_elsewhere_and_it_is_not_a_storage_error(
        key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidObjectKey):
        check_key(key)
    assert not issubclass(InvalidObjectKey, StorageError)  # a stage retries a StorageError; never this
    store = FilesystemStore(tmp_path / "archive")
    await store.put("exp-1/manifest.json", b"{}")
    with pytest.raises(InvalidObjectKey):
        await store.put(key, b"x")
    # Before: "./manifest.json" was written at the archive root, beside the exports.
    assert sorted(p.relative_to(tmp_path / "archive").as_posix() for p in (tmp_path / "archive").rglob("*")
                  if p.is_file()) == ["exp-1/manifest.json"]


def test_a_deduplicated_request_without_a_time_zone_is_refused_by_name() -> None:
    # A naive remember_from would meet the fetcher's aware timestamps in a comparison that raises TypeError.
    request = msgspec.structs.replace(SAMPLES[0], deduplication=messages.Deduplication(
        scope="continuous", remember_from=datetime(2026, 1, 1)))
    with pytest.raises(ValidationFailed) as caught:
        validate_export_request(request, Settings())  # type: ignore[arg-type]
    assert [p["field"] for p in caught.value.details["problems"]] == ["deduplication.remember_from"]
