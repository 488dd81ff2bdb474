"""The peers the benchmark compares task-engine with, each run end to end in its own
virtualenv (built on first use) on the test's PostgreSQL and Redis: a small drain
on every peer, and a short steady rate on one. Only that each peer's adapter works
and its figures are complete is asserted: a broken adapter would otherwise show up
only as an error line in a long benchmark's report."""

import pytest

from bench.peers import PEERS, run_peer
from tests.conftest import Services

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(600)]


@pytest.mark.parametrize("peer", PEERS)
def test_each_peer_drains_a_small_backlog_without_losing_a_job(
    services: Services, peer: str
) -> None:
    result = run_peer(
        peer,
        "drain",
        jobs=200,
        database_url=services.admin_database_url,
        redis_url=services.redis_url,
        timeout=300,
    )
    assert result["peer"] == peer and result["scenario"] == "drain"
    assert result["submitted"] == 200, result
    assert result["processed"] == 200 and result["lost"] == 0, result
    assert result["processed_per_s"] > 0, result
    assert result["config"] and result["persists"] and result["version"], result


def test_a_peer_under_a_steady_rate_reports_its_latency(services: Services) -> None:
    result = run_peer(
        "dramatiq",
        "steady",
        rate=50,
        seconds=2,
        database_url=services.admin_database_url,
        redis_url=services.redis_url,
        timeout=300,
    )
    assert result["submitted"] == 100 and result["lost"] == 0, result
    latency = result["enqueue_to_start_ms"]
    assert latency is not None and 0 <= latency["p50"] <= latency["max"], result
