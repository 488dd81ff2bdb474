"""The benchmark's arithmetic: what counts as lost, duplicated and unexpected, the
latency spreads, the medians over runs, and the mode names."""

import pytest

from bench.figures import Load, job_figures, spread
from bench.modes import LambdaLocal, Url, Workers, mode_named
from bench.report import medians


def _job(
    job_id: str, status: str, attempts: int, created: str, started: str, finished: str
) -> dict:
    day = "2026-11-29T10:00:"
    return {
        "id": job_id,
        "status": status,
        "attempts": attempts,
        "created_at": f"{day}{created}Z",
        "started_at": f"{day}{started}Z",
        "finished_at": f"{day}{finished}Z",
    }


def test_lost_unfinished_duplicated_and_unexpected_jobs_are_counted() -> None:
    load = Load()
    load.add("a")
    load.add("b", "completed", 3)
    load.add("c", "failed", 2)
    load.add("d")  # never settles
    load.add("e")  # unknown to the API
    jobs = {
        "a": _job("a", "completed", 2, "00.000", "00.010", "00.020"),  # ran twice
        "b": _job("b", "completed", 3, "00.000", "01.000", "01.100"),
        "c": _job("c", "completed", 2, "00.000", "00.500", "00.600"),  # expected the DLQ
        "d": {**_job("d", "running", 1, "00.000", "00.000", "00.000"), "finished_at": None},
    }
    figures = job_figures(load, jobs)
    assert figures["lost"] == 1
    assert figures["unfinished"] == 1
    assert figures["duplicated"] == 1
    assert figures["unexpected"] == 1
    assert figures["processed"] == 3
    assert figures["retries"] == 1 + 2 + 1
    assert figures["dead_lettered"] == 0
    # enqueue-to-start only over first attempts: none of a, b, c ran once
    assert figures["enqueue_to_start_ms"] is None
    assert figures["submit_to_finish_ms"]["max"] == pytest.approx(1100, abs=0.01)
    assert figures["processed_per_s"] == round(3 / 1.09, 1)  # first start to last finish


def test_start_to_first_job_counts_from_the_processors_start() -> None:
    load = Load(processing_started=1_795_000_000.0)
    load.add("a")
    job = _job("a", "completed", 1, "00.000", "00.100", "00.200")
    job["finished_at"] = "2026-11-18T11:06:40.750Z"  # 1_795_000_000.75
    job["started_at"] = "2026-11-18T11:06:40.500Z"
    job["created_at"] = "2026-11-18T11:06:39.000Z"
    figures = job_figures(load, {"a": job})
    assert figures["start_to_first_job_s"] == pytest.approx(0.75)
    assert figures["enqueue_to_start_ms"]["p50"] == pytest.approx(1500)


def test_spread_reports_p50_p95_p99_and_max() -> None:
    assert spread([]) is None
    values = [float(v) for v in range(1, 101)]
    assert spread(values) == {"p50": 50.5, "p95": 96.0, "p99": 100.0, "max": 100.0}


def test_medians_keep_the_worst_loss() -> None:
    runs = [
        {
            "mode": "m",
            "scenario": "s",
            "figures": {"processed_per_s": v, "lost": lost, "duplicated": 0, "unexpected": 0},
        }
        for v, lost in ((10.0, 0), (30.0, 2), (20.0, 0))
    ]
    merged = medians(runs)["s/m"]
    assert merged["processed_per_s"] == 20.0
    assert merged["lost"] == 2
    assert merged["runs"] == 3


def test_mode_names() -> None:
    assert isinstance(mode_named("workers-2", 2), Workers)
    lam = mode_named("lambda-nudge-c16", 2)
    assert isinstance(lam, LambdaLocal) and lam.concurrency == 16 and lam.trigger == "nudge"
    assert isinstance(mode_named("https://x.example/Prod", 2), Url)
    assert mode_named("compose-3", 2).name == "compose-3"
    for bad in ("workers", "lambda-cron-c1", "lambda-nudge-16", "docker"):
        with pytest.raises(ValueError, match="unknown mode"):
            mode_named(bad, 2)
