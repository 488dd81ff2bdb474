"""The pool: warm reuse, cold starts up to the limit, waiting beyond it, reaping."""

import threading
import time
from typing import Any

from lambda_local.environment import Invocation
from lambda_local.pool import FunctionPool
from lambda_local.template import FunctionSpec

SPEC = FunctionSpec("F", "m.handler", 3, 128, {})


class FakeEnvironment:
    def __init__(self, hold: threading.Event | None = None) -> None:
        self.hold = hold
        self.alive = True
        self.last_used = time.monotonic()
        self.stopped = False

    def invoke(self, payload: bytes) -> Invocation:
        if self.hold is not None:
            self.hold.wait(5)
        self.last_used = time.monotonic()
        return Invocation(payload, None, False, None, 1.0)

    def stop(self) -> None:
        self.stopped = True
        self.alive = False


def _pool(limit: int, hold: threading.Event | None = None) -> tuple[FunctionPool, list[Any]]:
    started: list[Any] = []

    def start(spec: FunctionSpec) -> Any:
        started.append(FakeEnvironment(hold))
        return started[-1]

    return FunctionPool(SPEC, limit, idle_seconds=60, start=start), started


def test_a_warm_environment_is_reused() -> None:
    pool, started = _pool(4)
    for _ in range(5):
        pool.invoke(b"{}")
    assert len(started) == 1
    assert pool.size == 1


def test_concurrent_invocations_start_environments_up_to_the_limit_then_wait() -> None:
    hold = threading.Event()
    pool, started = _pool(2, hold)
    threads = [threading.Thread(target=pool.invoke, args=(b"{}",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    assert len(started) == 2  # three callers wait for one to come free
    hold.set()
    for thread in threads:
        thread.join(5)
    assert len(started) == 2


def test_idle_environments_are_reaped_and_closed_ones_stopped() -> None:
    pool, started = _pool(2)
    pool.invoke(b"{}")
    assert pool.reap_idle(now=time.monotonic() + 61) == 1
    assert started[0].stopped and pool.size == 0
    pool.invoke(b"{}")
    pool.close()
    assert started[1].stopped


def test_a_dead_environment_is_not_reused() -> None:
    pool, started = _pool(2)
    pool.invoke(b"{}")
    started[0].alive = False
    pool.invoke(b"{}")
    assert len(started) == 2
