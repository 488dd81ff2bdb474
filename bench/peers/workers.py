"""A peer's worker processes: started as real subprocesses of its own CLI, stopped
the way an operator would (SIGTERM, then SIGKILL if they hang), and their CPU time
taken from RUSAGE_CHILDREN, which counts only children that have been waited for.
That is why CPU is read after `stop`, and why the runner starts no other
subprocess while workers run.
"""

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

__all__ = ["Workers"]

_ROOT = Path(__file__).resolve().parents[2]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Workers:
    def __init__(self, commands: list[list[str]], env: dict[str, str]) -> None:
        self._commands = commands
        # The worker CLIs import bench.peers.peer_<name> from the repository root.
        self._env = {**os.environ, **env, "PYTHONPATH": str(_ROOT)}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._cpu_before = 0.0
        self.cpu_s: float | None = None

    def __enter__(self) -> "Workers":
        self._cpu_before = _children_cpu()
        for command in self._commands:
            print(f"peers: starting {' '.join(command)}", file=sys.stderr, flush=True)
            # Their own session keeps a terminal's Ctrl-C away from them: the runner
            # stops them itself, in order. Their stdout joins our stderr because our
            # stdout carries only the result.
            self._procs.append(
                subprocess.Popen(
                    command,
                    cwd=_ROOT,
                    env=self._env,
                    stdout=sys.stderr.fileno(),
                    start_new_session=True,
                )
            )
        return self

    def alive(self) -> bool:
        return all(proc.poll() is None for proc in self._procs)

    def stop(self, grace: float = 30.0) -> float:
        """Stop every worker and return the CPU seconds they (and their children) used."""
        if self.cpu_s is not None:
            return self.cpu_s
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self._procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"peers: worker {proc.pid} ignored SIGTERM, killing", file=sys.stderr)
                _kill_group(proc.pid)
                proc.wait()
            # A pool's children outliving their parent would go unmeasured and unstopped.
            _kill_group(proc.pid)
        self.cpu_s = _children_cpu() - self._cpu_before
        return self.cpu_s

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has already gone
        os.killpg(pgid, signal.SIGKILL)
