"""The project side of the peer benchmark: what it passes to the runner, and an
unknown peer refused before any virtualenv is built."""

from pathlib import Path

import pytest

import bench.peers as peers


def test_only_given_sizes_are_passed_to_the_runner() -> None:
    assert peers._arguments(2000, None, None, 16) == ["--jobs", "2000", "--concurrency", "16"]
    assert peers._arguments(None, 500.0, 10.0, 8) == [
        "--rate",
        "500.0",
        "--seconds",
        "10.0",
        "--concurrency",
        "8",
    ]


def test_an_unknown_peer_is_refused_before_any_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_venv(root: Path) -> Path:
        raise AssertionError("no virtualenv for an unknown peer")

    monkeypatch.setattr(peers, "ensure_venv", no_venv)
    with pytest.raises(ValueError, match="unknown peer 'sidekiq'"):
        peers.run_peer("sidekiq", "drain", jobs=1, database_url="x", redis_url="y")
    assert set(peers.PEERS) == {"celery", "rq", "arq", "saq", "dramatiq", "procrastinate"}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], list(peers.PEERS)),
        (["--quick"], []),
        (["--quick", "--peers"], list(peers.PEERS)),
        (["--peer", "saq", "--peer", "dramatiq", "--peer", "saq"], ["saq", "dramatiq"]),
        (["--quick", "--peer", "rq"], ["rq"]),
        (["--no-peers", "--peer", "rq"], []),
    ],
)
def test_the_peers_compared_follow_the_command_line(argv: list[str], expected: list[str]) -> None:
    from bench.__main__ import make_parser, peers_wanted

    assert list(peers_wanted(make_parser().parse_args(argv))) == expected


def test_a_peer_not_in_the_benchmark_is_refused_on_the_command_line() -> None:
    from bench.__main__ import make_parser

    with pytest.raises(SystemExit):
        make_parser().parse_args(["--peer", "huey"])
