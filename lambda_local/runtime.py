"""The local Lambda service: a pool per function of the template, synchronous and
asynchronous (Event) invocation, and a record of every cold start and invocation."""

import json
import queue
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from lambda_local.environment import ExecutionEnvironment, Invocation, find_emulator
from lambda_local.pool import FunctionPool
from lambda_local.template import FunctionSpec, Template

__all__ = ["LocalLambda", "Record", "UnknownFunction", "percentiles"]


class UnknownFunction(KeyError):
    pass


@dataclass(frozen=True)
class Record:
    function: str
    kind: str  # RequestResponse or Event
    cold: bool
    init_ms: float | None
    duration_ms: float
    error: str | None
    at: float  # Unix time the invocation ended


class LocalLambda:
    def __init__(
        self,
        template: Template,
        env: dict[str, str],
        workdir: Path,
        concurrency: int,
        idle_seconds: float,
        record_to: TextIO | None = None,
        on_line: Callable[[str, str], None] = lambda name, line: None,
    ) -> None:
        emulator = find_emulator()
        self.template = template
        self.records: list[Record] = []
        self._record_to = record_to
        self._concurrency = concurrency
        self._lock = threading.Lock()

        def start(spec: FunctionSpec) -> ExecutionEnvironment:
            return ExecutionEnvironment(spec, emulator, env, workdir, on_line)

        self.pools = {
            name: FunctionPool(spec, concurrency, idle_seconds, start)
            for name, spec in template.functions.items()
        }
        self._events: dict[str, queue.Queue[bytes | None]] = {}
        for name in self.pools:
            self._events[name] = queue.Queue()
            for i in range(concurrency):
                threading.Thread(
                    target=self._run_events, args=(name,), name=f"{name}-event-{i}", daemon=True
                ).start()
        self._stopping = threading.Event()
        threading.Thread(target=self._reap_loop, args=(idle_seconds,), daemon=True).start()

    def function_name(self, given: str) -> str:
        """A name, partial ARN or ARN as boto3 sends it, to the template's logical id."""
        name = given.rsplit(":function:", 1)[-1].split(":", 1)[0]
        if name not in self.pools:
            raise UnknownFunction(given)
        return name

    def invoke(self, name: str, payload: bytes) -> Invocation:
        result = self.pools[name].invoke(payload)
        self._record(name, "RequestResponse", result)
        return result

    def invoke_async(self, name: str, payload: bytes) -> None:
        """Queued like Lambda's asynchronous invocations; run as environments allow."""
        self._events[name].put(payload)

    def _run_events(self, name: str) -> None:
        events = self._events[name]
        while (payload := events.get()) is not None:
            try:
                result = self.pools[name].invoke(payload)
            except Exception:
                continue  # the pool is closing, or the emulator died: logged by the pool
            self._record(name, "Event", result)

    def _record(self, name: str, kind: str, result: Invocation) -> None:
        record = Record(
            name, kind, result.cold, result.init_ms, result.duration_ms, result.error, time.time()
        )
        with self._lock:
            self.records.append(record)
            if self._record_to is not None:
                self._record_to.write(json.dumps(asdict(record)) + "\n")
                self._record_to.flush()

    def _reap_loop(self, idle_seconds: float) -> None:
        while not self._stopping.wait(min(idle_seconds, 5.0)):
            for pool in self.pools.values():
                pool.reap_idle()

    def stats(self) -> dict[str, Any]:
        """Per function: invocations, cold starts, init and invocation durations."""
        with self._lock:
            records = list(self.records)
        out: dict[str, Any] = {}
        for name, pool in self.pools.items():
            mine = [r for r in records if r.function == name]
            inits = [r.init_ms for r in mine if r.init_ms is not None]
            warm = [r.duration_ms for r in mine if not r.cold]
            out[name] = {
                "invocations": len(mine),
                "errors": sum(r.error is not None for r in mine),
                "cold_starts": sum(r.cold for r in mine),
                "environments": pool.size,
                "init_ms": percentiles(inits),
                "warm_duration_ms": percentiles(warm),
            }
        return out

    def pending_events(self) -> int:
        return sum(q.qsize() for q in self._events.values())

    def close(self) -> None:
        self._stopping.set()
        for events in self._events.values():
            for _ in range(self._concurrency):
                events.put(None)
        for pool in self.pools.values():
            pool.close()


def percentiles(values: list[float]) -> dict[str, float] | None:
    """p50, p95 and max, rounded to 0.01; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
    }
