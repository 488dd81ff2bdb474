"""The benchmark report: goals judged against their limits, peers as ratios to
task-engine's fastest mode, a failed peer shown rather than dropped."""

from pathlib import Path
from typing import Any

from bench.report import peer_medians, write_report


def _figures(per_s: float, p99: float) -> dict[str, Any]:
    spread = {"p50": p99 / 2, "p95": p99, "p99": p99, "max": p99}
    return {
        "processed_per_s": per_s,
        "processed": 100,
        "lost": 0,
        "unfinished": 0,
        "duplicated": 0,
        "enqueue_to_start_ms": spread,
        "submit_to_finish_ms": spread,
        "submit_ms": spread,
    }


def _document(peers: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {
        "drain/workers-2": _figures(6000.0, 900.0),
        "drain/workers-1": _figures(4000.0, 900.0),
        "steady/workers-1": _figures(1000.0, 8.0),
        "steady/lambda-nudge-c4": _figures(80.0, 2500.0),
    }
    return {
        "command": "python -m bench",
        "finished": "2026-11-29 10:00 UTC",
        "duration_s": 60.0,
        "runs_per_case": 1,
        "machine": {"cpus": 2},
        "versions": {},
        "modes": [],
        "skipped": {"compose-2": "no Docker engine"},
        "scenarios": [
            {"name": "drain", "description": "d"},
            {"name": "steady", "description": "s", "rate": 1000.0},
        ],
        "cold_start": {"GetFunction": {"environments": 2, "init_ms": {"p50": 140.0, "p95": 150.0}}},
        "summary": summary,
        "peers": peer_medians(peers),
        "runs": [],
    }


def test_goals_and_peer_ratios(tmp_path: Path) -> None:
    peers = [
        {
            "peer": "celery",
            "scenario": "drain",
            "processed_per_s": 2000.0,
            "lost": 0,
            "version": "5",
        },
        {
            "peer": "celery",
            "scenario": "drain",
            "processed_per_s": 4000.0,
            "lost": 1,
            "version": "5",
        },
        {"peer": "rq", "scenario": "drain", "error": "worker crashed | badly"},
    ]
    page = write_report(tmp_path, _document(peers)).read_text()
    # celery's median is 3,000 jobs/s: workers-2's 6,000 is exactly twice it
    assert "2.00 times → met" in page
    assert "| celery | 5 | 3,000.0 | 2.00 |" in page
    assert "failed: worker crashed / badly" in page
    assert "`workers-1` 8.00 → met" in page
    # a mode that did not take the arrivals on time cannot meet a latency goal
    assert "`lambda-nudge-c4` 2,500.00 → MISSED: submits queued behind the mode" in page
    assert "GetFunction at 140.0 ms → met" in page
    assert "`compose-2`: not run: no Docker engine" in page
    assert (tmp_path / "plots" / "drain.png").exists()
    assert "![drain](plots/drain.png)" in page


def test_a_latency_goal_needs_the_offered_rate(tmp_path: Path) -> None:
    document = _document([])
    document["summary"]["steady/workers-2"] = _figures(300.0, 5.0)
    page = write_report(tmp_path, document).read_text()
    assert "`workers-2` 5.00 → MISSED: it processed 300 jobs/s of the 1,000/s offered" in page


def test_worst_loss_over_peer_runs_is_kept() -> None:
    merged = peer_medians(
        [
            {"peer": "arq", "scenario": "drain", "processed_per_s": 10.0, "lost": 0},
            {"peer": "arq", "scenario": "drain", "processed_per_s": 30.0, "lost": 3},
        ]
    )["drain/arq"]
    assert merged["processed_per_s"] == 20.0
    assert merged["lost"] == 3


def test_arrivals_left_unsent_are_a_miss_with_the_rate_the_mode_took(tmp_path: Path) -> None:
    document = _document([])
    figures = _figures(140.0, 80.0)
    figures["unsent"] = 52_000
    document["summary"]["steady/lambda-nudge-c4"] = figures
    page = write_report(tmp_path, document).read_text()
    assert (
        "`lambda-nudge-c4` 80.00 → MISSED: 52,000 arrivals could not be sent in time "
        "(it took 140 jobs/s)" in page
    )
    # and the scenario's table shows the arrivals that never went out
    assert "| `lambda-nudge-c4` | 140.0 | 52,000 |" in page
