"""`export submit --source`: a request submitted from the command line (a real process) reaches the fetcher
(on the real broker), which fetches it from the source it names on the simulator, and from no other."""

from __future__ import annotations

import pytest

from shared.kafka.tables import topic_values
from shared.kafka.topics import EXPORTS
from shared.messages import ExportRequest, decode
from shared.settings import Settings
from simulator.config import DEMO_API_KEY
from simulator.server import dataset_window
from tests.cognigy_archiver.test_cli import cli
from tests.stages.fetcher.simulated import running_sim, sim_config
from tests.stages.fetcher.test_stage import checkpoint_of, published_pages, run_fetcher, stage_settings

pytestmark = pytest.mark.timeout(120)
# The simulator's routes (its request counts are by route) of each source's API.
SOURCE_ROUTES = {"odata": {"GET /{version}/Conversations", "GET /{version}/Conversations/$count"},
                 "rest": {"GET /new/v2.0/conversations/{sessionId}"}}


def kafka_env(topics: Settings) -> dict[str, str]:
    return {"CA_KAFKA_BOOTSTRAP_SERVERS": topics.kafka.bootstrap_servers, "CA_TOPIC_PREFIX": topics.kafka.topic_prefix}


@pytest.mark.parametrize("source", ["odata", "rest"])
async def test_a_submitted_source_is_the_one_fetched(topics: Settings, source: str) -> None:
    async with running_sim(sim_config()) as sim:
        start, end = dataset_window()
        sessions = sorted(sim.state.sessions)[:3]
        selection = [arg for s in sessions for arg in ("--session-id", s)] if source == "rest" else []
        export_id = f"exp-cli-{source}"
        result = cli("export", "submit", "--source", source, "--start", start.isoformat(), "--end", end.isoformat(),
                     *selection, "--export-id", export_id, env=kafka_env(topics))
        assert result.returncode == 0, result.stderr
        settings = stage_settings(topics, sim, COGNIGY_AUTH="api_key", COGNIGY_API_KEY=DEMO_API_KEY)
        status = await run_fetcher(settings, export_id)
        routes = dict(sim.state.requests)
    assert status.state == "fetched", status.detail
    checkpoint = await checkpoint_of(topics, export_id)
    assert checkpoint is not None and checkpoint.source == source and checkpoint.done
    assert routes and set(routes) <= SOURCE_ROUTES[source], routes  # that source's API and no other
    pages = await published_pages(topics, export_id)
    if source == "rest":
        assert len(pages) == len(sessions)  # one page per session asked for
    assert status.records == checkpoint.records > 0


async def test_a_session_range_and_the_source_go_into_the_request(topics: Settings) -> None:
    result = cli("export", "submit", "--source", "odata", "--start", "2025-01-01T00:00:00Z",
                 "--end", "2025-01-02T00:00:00Z", "--session-range", "s-100", "s-199", "--export-id", "exp-range",
                 env=kafka_env(topics))
    assert result.returncode == 0, result.stderr
    [value] = await topic_values(topics, EXPORTS)
    request: ExportRequest = decode(value, ExportRequest)
    assert request.source == "odata" and request.session_range is not None
    assert (request.session_range.first, request.session_range.last) == ("s-100", "s-199")


@pytest.mark.parametrize(("args", "problem"), [
    (("--source", "soap"), "  - source: 'soap': use one of export_job, odata, rest"),
    (("--source", "rest"), "  - source: the REST source fetches sessions by id: list the session ids"),
])
def test_a_source_that_cannot_be_used_is_refused_before_anything_is_sent(args: tuple[str, str], problem: str) -> None:
    result = cli("export", "submit", *args, "--start", "2025-01-01T00:00:00Z", "--end", "2025-01-02T00:00:00Z",
                 env={"CA_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""})
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: invalid export request", problem]
