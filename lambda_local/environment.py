"""One Lambda execution environment: the Runtime Interface Emulator (the binary in
the aws-sam-cli wheel) running ``python -m awslambdaric <handler>`` as a process.

The emulator initialises the function on the first invocation (cold start) and
reports it as ``INIT REPORT(durationMs: ...)``; each invocation ends with a
``REPORT RequestId: ... Duration: ... ms`` line. An emulator takes one invocation
at a time (a second concurrent one crashes it), which is why the pool hands an
environment to one caller at a time. On a timeout it kills the runtime and
initialises it again on the next invocation, as Lambda does.
"""

import http.client
import importlib.util
import json
import os
import platform
import queue
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import ConfigError
from lambda_local.template import FunctionSpec

__all__ = ["EmulatorError", "ExecutionEnvironment", "Invocation", "find_emulator"]

_INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([\d.]+)\)")
_ERROR_KEYS = {"errorMessage", "errorType"}


class EmulatorError(ConfigError):
    """The emulator could not start or answer."""


@dataclass(frozen=True)
class Invocation:
    payload: bytes
    error: str | None  # "Unhandled" when the function raised or timed out
    cold: bool
    init_ms: float | None  # the emulator's INIT REPORT for a cold start
    duration_ms: float  # round trip through the emulator, as the caller saw it


def find_emulator() -> Path:
    """The emulator binary shipped in the aws-sam-cli wheel, for this machine."""
    spec = importlib.util.find_spec("samcli")
    if spec is None or not spec.submodule_search_locations:
        raise EmulatorError(
            "the local Lambda runtime needs aws-sam-cli (pip install 'task-engine[lambda-local]')"
        )
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    if arch is None:
        raise EmulatorError(f"no Lambda emulator for this machine ({platform.machine()})")
    binary = (
        Path(next(iter(spec.submodule_search_locations))) / "local/rapid" / f"aws-lambda-rie-{arch}"
    )
    if not binary.exists():
        raise EmulatorError(f"{binary} is missing from the aws-sam-cli package")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ExecutionEnvironment:
    def __init__(
        self,
        spec: FunctionSpec,
        emulator: Path,
        env: dict[str, str],
        workdir: Path,
        on_line: Callable[[str, str], None],
    ) -> None:
        self.spec = spec
        self.port = _free_port()
        self.started = time.monotonic()
        self.last_used = self.started
        self.invocations = 0
        self._on_line = on_line
        self._needs_init = True  # the emulator initialises on the first invocation
        self._init_reports: queue.Queue[float] = queue.Queue()
        self._conn: http.client.HTTPConnection | None = None
        environment = {
            **env,
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), env.get("PYTHONPATH")])),
        }
        self.process = subprocess.Popen(
            [
                str(emulator),
                "--log-level",
                "info",
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.port}",
                "--runtime-api-address",
                f"127.0.0.1:{_free_port()}",
                sys.executable,
                "-m",
                "awslambdaric",
                spec.handler,
            ],
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._read_output, daemon=True).start()
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(f"the emulator for {self.spec.name} exited at start")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.01)
        raise EmulatorError(f"the emulator for {self.spec.name} did not listen in 10 s")

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if match := _INIT_REPORT.search(line):
                self._init_reports.put(float(match.group(1)))
            self._on_line(self.spec.name, line)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, payload: bytes) -> Invocation:
        """One invocation, waiting up to the function's timeout (plus slack)."""
        cold = self._needs_init
        started = time.monotonic()
        body = self._post(payload)
        elapsed = (time.monotonic() - started) * 1000
        self.last_used = time.monotonic()
        self.invocations += 1
        init_ms = None
        if cold:
            # The emulator prints INIT REPORT before it answers, but another thread
            # reads that output: wait for the line rather than race it.
            try:
                init_ms = self._init_reports.get(timeout=2.0)
            except queue.Empty:
                init_ms = None
        timed_out = body.startswith(b"Task timed out after")
        self._needs_init = timed_out  # the emulator killed the runtime: next one is cold
        if timed_out:
            body = json.dumps(
                {"errorMessage": body.decode(), "errorType": "Sandbox.Timedout"}
            ).encode()
        return Invocation(body, _error_of(body), cold, init_ms, elapsed)

    def _post(self, payload: bytes) -> bytes:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.spec.timeout + 30
                )
            try:
                self._conn.request(
                    "POST",
                    "/2015-03-31/functions/function/invocations",
                    payload,
                    {"Content-Type": "application/json"},
                )
                return self._conn.getresponse().read()
            except (OSError, http.client.HTTPException) as exc:
                self._conn.close()
                self._conn = None
                if attempt == 2 or not self.alive:
                    raise EmulatorError(f"{self.spec.name}: the emulator failed: {exc}") from exc
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _error_of(body: bytes) -> str | None:
    """The emulator answers 200 whatever happened: an error is a body holding
    errorMessage and errorType (Lambda adds X-Amz-Function-Error for those).
    Most answers never mention errorType: they are not parsed here (the front
    door parses them once, for the HTTP response)."""
    if b'"errorType"' not in body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict) and value.keys() >= _ERROR_KEYS:
        return "Unhandled"
    return None
