"""task-engine's peers: the same benchmark scenarios run against Celery, RQ, arq,
saq, Dramatiq and Procrastinate on the same PostgreSQL and Redis.

This package's __init__ and environment.py are stdlib only, for the project's
harness; every other module runs in the peers' own virtualenv (see runner.py).
"""

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO, Any

from bench.peers.environment import ensure_venv

__all__ = ["PEERS", "run_peer"]

PEERS = ("celery", "rq", "arq", "saq", "dramatiq", "procrastinate")

_ROOT = Path(__file__).resolve().parents[2]
_RUNNER = Path(__file__).with_name("runner.py")


def _arguments(
    jobs: int | None, rate: float | None, seconds: float | None, concurrency: int
) -> list[str]:
    given = {"--jobs": jobs, "--rate": rate, "--seconds": seconds, "--concurrency": concurrency}
    return [
        part for flag, value in given.items() if value is not None for part in (flag, str(value))
    ]


def _relay(stream: IO[str], tail: deque[str]) -> None:
    """Pass the runner's progress through to our stderr, keeping its last lines."""
    for line in stream:
        sys.stderr.write(line)
        tail.append(line)


def run_peer(
    peer: str,
    scenario: str,
    *,
    jobs: int | None = None,
    rate: float | None = None,
    seconds: float | None = None,
    database_url: str,
    redis_url: str,
    concurrency: int = 16,
    timeout: float = 900,
) -> dict[str, Any]:
    """Run one scenario ("drain" with `jobs`, "steady" with `rate` and `seconds`)
    against `peer` in the peer venv and return the runner's figures."""
    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; one of {', '.join(PEERS)}")
    python = ensure_venv(_ROOT)
    command = [str(python), str(_RUNNER), "--peer", peer, "--scenario", scenario]
    command += ["--database-url", database_url, "--redis-url", redis_url]
    command += _arguments(jobs, rate, seconds, concurrency)
    returncode, stdout, tail = _execute(command, timeout)
    lines = stdout.strip().splitlines()
    if returncode != 0 or not lines:
        raise RuntimeError(
            f"peer {peer} {scenario} failed (exit {returncode}); stderr tail:\n" + "".join(tail)
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _execute(command: list[str], timeout: float) -> tuple[int, str, deque[str]]:
    """Run the runner: its exit code, its stdout, and the tail of its stderr."""
    tail: deque[str] = deque(maxlen=30)
    proc = subprocess.Popen(
        command, cwd=_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = proc.stdout, proc.stderr
    assert out is not None and err is not None
    relay = threading.Thread(target=_relay, args=(err, tail), daemon=True)
    relay.start()
    stdout: list[str] = []
    reader = threading.Thread(target=lambda: stdout.append(out.read()), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"peers: runner still going after {timeout}s, stopping it", file=sys.stderr)
        _stop(proc)
    reader.join()
    relay.join()
    return proc.returncode, "".join(stdout), tail


def _stop(proc: "subprocess.Popen[str]") -> None:
    """SIGTERM lets the runner stop its workers and delete its keys; SIGKILL if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
