"""The three sources against the simulator over real HTTP: paging, checksums, resume tokens, quirks, and
that they yield the same records for the same selection."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec
import pytest

from shared.errors import QuotaExceeded, SourceError
from shared.messages import SessionRange
from stages.fetcher.errors import ExportJobFailed
from tests.stages.fetcher.simulated import PAGE_SIZE, Sim, export_request, fetch_all, running_sim, sim_config

COMMON_FIELDS = ("id", "sessionId", "timestamp", "inputId", "contactId", "inputText", "type", "source", "channel",
                 "outputId", "rating", "ratingComment")


def expected_pages(sim: Sim) -> list[bytes]:
    records = sim.state.dataset.records
    return [msgspec.json.encode({"items": records[i:i + PAGE_SIZE]}) for i in range(0, len(records), PAGE_SIZE)]


async def test_export_job_pages_are_the_selection_with_verified_checksums(sim: Sim) -> None:
    fetched = await fetch_all(sim.settings(), export_request())
    assert [p.body for p in fetched.pages] == expected_pages(sim)
    assert all(p.verified and p.sha256 == hashlib.sha256(p.body).hexdigest() for p in fetched.pages)
    assert [p.resume_token is None for p in fetched.pages] == [False] * (len(fetched.pages) - 1) + [True]
    assert fetched.percents == [50, 100]  # polled until COMPLETED, with its progress
    last = fetched.checkpoints[-1]
    assert last.done and last.records == len(sim.state.dataset.records)
    assert last.bytes == sum(len(p.body) for p in fetched.pages) and last.last_sha256 == fetched.pages[-1].sha256


async def test_resuming_from_a_checkpoint_fetches_only_the_rest(sim: Sim) -> None:
    whole = await fetch_all(sim.settings(), export_request())
    resumed = await fetch_all(sim.settings(), export_request(), checkpoint=whole.checkpoints[3])
    assert [p.body for p in resumed.pages] == [p.body for p in whole.pages[3:]]
    served = (await sim.stats())["pages_served"]
    assert list(served.values()) == [{str(i): 1 + (i >= 3) for i in range(len(whole.pages))}]


@pytest.mark.parametrize("source", ["export_job", "odata", "rest"])
async def test_the_three_sources_yield_the_same_records_for_the_same_selection(source: str) -> None:
    async with running_sim(sim_config(conversations=12)) as sim:
        records = sim.state.dataset.records
        start, end = datetime(2025, 1, 3, tzinfo=UTC), datetime(2025, 1, 25, tzinfo=UTC)
        sessions = sorted({r["sessionId"] for r in records})
        request = export_request(source, window=(start, end), session_ids=sessions)  # type: ignore[arg-type]
        settings = sim.api_key_settings()
        fetched = await fetch_all(settings, request)
        in_window = [r for r in records if start <= datetime.fromisoformat(r["timestamp"]) < end]
        assert 0 < len(in_window) < len(records)
        key = lambda r: (r["sessionId"], r["timestamp"], r["id"])  # noqa: E731
        got = sorted(fetched.records, key=key)
        assert [{f: r[f] for f in COMMON_FIELDS} for r in got] == [
            {f: r[f] for f in COMMON_FIELDS} for r in sorted(in_window, key=key)]


async def test_odata_pages_are_byte_identical_to_export_job_pages(sim: Sim) -> None:
    settings = sim.api_key_settings(COGNIGY_ODATA_TOP="7")  # a small $top: ties and keyset steps across batches
    odata = await fetch_all(settings, export_request("odata"))
    job = await fetch_all(settings, export_request("export_job"))
    assert [p.body for p in odata.pages] == [p.body for p in job.pages]
    assert [p.sha256 for p in odata.pages] == [p.sha256 for p in job.pages]
    requests = (await sim.stats())["requests"]
    assert requests["GET /{version}/Conversations"] > len(sim.state.dataset.records) // 7


async def test_odata_resume_token_is_the_keyset_cursor(sim: Sim) -> None:
    settings = sim.api_key_settings(COGNIGY_ODATA_TOP="9")
    whole = await fetch_all(settings, export_request("odata"))
    resumed = await fetch_all(settings, export_request("odata"), checkpoint=whole.checkpoints[2])
    assert [p.body for p in resumed.pages] == [p.body for p in whole.pages[2:]]
    cursor = msgspec.json.decode(whole.pages[1].resume_token or "")
    assert cursor["timestamp"] == msgspec.json.decode(whole.pages[1].body)["items"][-1]["timestamp"]


@pytest.mark.parametrize("literals", ["quoted", "bare"])
async def test_odata_takes_datetimes_quoted_or_bare(literals: str) -> None:
    async with running_sim(sim_config(faults={"odata_datetime_literals": literals})) as sim:
        fetched = await fetch_all(sim.api_key_settings(), export_request("odata"))
        assert [p.body for p in fetched.pages] == expected_pages(sim)


async def test_odata_500_past_the_last_record_is_the_end_confirmed_by_count() -> None:
    async with running_sim(sim_config(faults={"odata_past_end_500": True})) as sim:
        # A $top whose last keyset query starts exactly at the newest record (each query after the first
        # repeats the last record seen, as `ge` does).
        n = len(sim.state.dataset.records)
        top = next(t for t in range(5, n) if (n - t) % (t - 1) == 0)
        fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_TOP=str(top)), export_request("odata"))
        assert [p.body for p in fetched.pages] == expected_pages(sim)
        stats = await sim.stats()
        assert stats["responses"]["500"] == 1 and stats["requests"]["GET /{version}/Conversations/$count"] == 1


async def test_odata_v2_3_records_with_underscore_id_come_out_with_id(sim: Sim) -> None:
    fetched = await fetch_all(sim.api_key_settings(COGNIGY_ODATA_VERSION="v2.3"), export_request("odata"))
    assert [p.body for p in fetched.pages] == expected_pages(sim)


async def test_odata_session_range_is_filtered_by_the_server(sim: Sim) -> None:
    sessions = sorted(sim.state.sessions)
    span = SessionRange(sessions[3], sessions[9])
    odata = await fetch_all(sim.api_key_settings(), export_request("odata", session_range=span))
    job = await fetch_all(sim.api_key_settings(), export_request("export_job", session_range=span))
    assert {r["sessionId"] for r in odata.records} == set(sessions[3:10])
    assert [p.body for p in odata.pages] == [p.body for p in job.pages]


async def test_rest_fetches_sessions_concurrently_and_pages_them_in_order(sim: Sim) -> None:
    sessions = [*sorted(sim.state.sessions)[:9], "session-that-expired"]
    fetched = await fetch_all(sim.api_key_settings(COGNIGY_MAX_CONCURRENCY="4"), export_request("rest",
                                                                                              session_ids=sessions))
    assert [len(p.body) > 0 for p in fetched.pages] == [True] * 10
    assert [p.records for p in fetched.pages] == [len(sim.state.sessions[s]) for s in sessions[:9]] + [0]
    assert [p.resume_token for p in fetched.pages] == [str(i) for i in range(1, 10)] + [None]
    resumed = await fetch_all(sim.api_key_settings(), export_request("rest", session_ids=sessions),
                              checkpoint=fetched.checkpoints[6])
    assert [p.body for p in resumed.pages] == [p.body for p in fetched.pages[6:]]


async def test_a_transiently_wrong_checksum_is_downloaded_again() -> None:
    async with running_sim(sim_config(faults={"flaky_checksum_pages": [1], "flaky_times": 2})) as sim:
        fetched = await fetch_all(sim.settings(), export_request())
        assert [p.body for p in fetched.pages] == expected_pages(sim) and all(p.verified for p in fetched.pages)
        assert fetched.stats.checksum_redownloads == 2
        assert next(iter((await sim.stats())["pages_served"].values()))["1"] == 3


async def test_a_permanently_wrong_checksum_is_tried_four_times_then_handed_on_unverified() -> None:
    async with running_sim(sim_config(corrupt_pages=[2])) as sim:
        fetched = await fetch_all(sim.settings(), export_request())
        bad = fetched.pages[2]
        assert not bad.verified and bad.sha256 != hashlib.sha256(bad.body).hexdigest()
        assert "after 3 re-downloads" in bad.problem
        assert [p.verified for p in fetched.pages].count(False) == 1
        assert fetched.checkpoints[-1].mismatched_pages == [2]
        assert next(iter((await sim.stats())["pages_served"].values()))["2"] == 4


@pytest.mark.parametrize(("fraction", "status"), [(0.5, "206"), (1.0, "416")])
async def test_a_body_cut_off_resumes_with_range(fraction: float, status: str) -> None:
    faults = {"truncate_pages": [0, 3], "truncate_fraction": fraction}
    async with running_sim(sim_config(faults=faults)) as sim:
        fetched = await fetch_all(sim.settings(), export_request())
        assert [p.body for p in fetched.pages] == expected_pages(sim) and all(p.verified for p in fetched.pages)
        assert (await sim.stats())["responses"][status] == 2
        assert fetched.stats.ranged_resumes == (2 if status == "206" else 0)


async def test_transcripts_download_per_session_and_resume_a_cut_body(sim: Sim) -> None:
    from stages.fetcher.api_client import ApiClient
    from stages.fetcher.sources import ExportJobSource

    api = ApiClient(sim.settings())
    source = ExportJobSource(api, sim.settings())
    try:
        job_id = await source.prepare(export_request())
        session = sorted(sim.state.sessions)[0]
        body = await source.transcript(job_id, session)
    finally:
        await api.close()
    assert msgspec.json.decode(body)["items"] == sim.state.sessions[session]


async def test_a_failed_job_carries_the_servers_message() -> None:
    async with running_sim(sim_config(faults={"job_fails_with": "index shard 3 unavailable"})) as sim:
        with pytest.raises(ExportJobFailed, match="failed: index shard 3 unavailable"):
            await fetch_all(sim.settings(), export_request())


async def test_a_413_is_reported_as_a_quota_error(sim: Sim) -> None:
    with pytest.raises(QuotaExceeded, match=r"storage quota exceeded \(413\).*max_storage_mb is 0"):
        await fetch_all(sim.settings(), export_request(max_storage_mb=0))


async def test_client_side_sources_leave_the_quota_to_the_archive() -> None:
    """`max_storage_mb` counts what the archive holds (compressed): raw bytes past it are no reason to stop."""
    async with running_sim(sim_config(conversations=400)) as sim:  # a bit over 1 MB of pages
        fetched = await fetch_all(sim.api_key_settings(), export_request("odata", max_storage_mb=1))
    assert fetched.checkpoints[-1].done and fetched.checkpoints[-1].bytes > 1024 * 1024


async def test_a_400_fails_at_once_with_the_servers_words(sim: Sim) -> None:
    request = export_request(session_ids=["a"], session_range=SessionRange("a", "b"))
    with pytest.raises(SourceError, match=r"POST /api/v1/export/jobs failed \(400\): give session_ids or "
                                          r"session_range, not both \(traceId api--"):
        await fetch_all(sim.settings(), request)
    assert (await sim.stats())["requests"]["POST /api/v1/export/jobs"] == 1
