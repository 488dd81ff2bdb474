"""A pool of execution environments per function, as Lambda keeps them: an
invocation takes an idle (warm) environment, or starts one (a cold start) while
the function is under its concurrency limit, or waits for one to come free.
Environments idle longer than the idle limit are stopped."""

import threading
import time
from collections.abc import Callable

from lambda_local.environment import ExecutionEnvironment, Invocation
from lambda_local.template import FunctionSpec

__all__ = ["FunctionPool"]


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        concurrency: int,
        idle_seconds: float,
        start: Callable[[FunctionSpec], ExecutionEnvironment],
    ) -> None:
        self.spec = spec
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self._start = start
        self._lock = threading.Condition()
        self._idle: list[ExecutionEnvironment] = []  # most recently used last
        self._all: set[ExecutionEnvironment] = set()  # idle and busy: close() stops them all
        self._busy = 0
        self._starting = 0
        self._closed = False

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._idle) + self._busy

    def invoke(self, payload: bytes) -> Invocation:
        env = self._acquire()
        broken = False
        try:
            return env.invoke(payload)
        except Exception:
            broken = True
            raise
        finally:
            self._release(env, broken or not env.alive)

    def _acquire(self) -> ExecutionEnvironment:
        with self._lock:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.spec.name}: the runtime is shutting down")
                while self._idle:
                    env = self._idle.pop()  # the warmest one
                    if env.alive:
                        self._busy += 1
                        return env
                    self._all.discard(env)  # its emulator exited while idle
                if self._busy + self._starting < self.concurrency:
                    self._starting += 1
                    break
                self._lock.wait()
        try:
            env = self._start(self.spec)
        except BaseException:
            with self._lock:
                self._starting -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._starting -= 1
            self._busy += 1
            self._all.add(env)
        return env

    def _release(self, env: ExecutionEnvironment, discard: bool) -> None:
        with self._lock:
            self._busy -= 1
            if discard or self._closed:
                self._all.discard(env)
                threading.Thread(target=env.stop, daemon=True).start()
            else:
                self._idle.append(env)
            self._lock.notify()

    def reap_idle(self, now: float | None = None) -> int:
        """Stop environments idle for longer than the limit; returns how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [e for e in self._idle if now - e.last_used > self.idle_seconds]
            self._idle = [e for e in self._idle if e not in stale]
            self._all.difference_update(stale)
        for env in stale:
            env.stop()
        return len(stale)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running, self._all, self._idle = list(self._all), set(), []
            self._lock.notify_all()
        for env in running:  # a busy one's caller gets an error: the runtime is stopping
            env.stop()
