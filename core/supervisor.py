"""``taskengine worker --processes N``: N worker processes under one supervisor.

The supervisor serves the metrics port for all of them (prometheus-client's
multiprocess mode), restarts a child that dies unexpectedly, and forwards
SIGTERM. Children run in their own process group so that a terminal's Ctrl-C
reaches them once, through the supervisor, and not twice.
"""

import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

from core.logs import get_logger

__all__ = ["Supervisor"]

log = get_logger()

_RESTART_DELAY_SECONDS = 1.0


class Supervisor:
    def __init__(self, processes: int, child: Callable[[int], None]) -> None:
        self._count = processes
        self._child = child
        self._ctx = multiprocessing.get_context("spawn")
        self._children: dict[int, BaseProcess] = {}
        self._stopping = False
        self.metrics_dir = tempfile.mkdtemp(prefix="taskengine-metrics-")
        # Children read this when they import prometheus_client: set it before they start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir

    def alive(self) -> bool:
        return len(self._children) == self._count and all(
            p.is_alive() for p in self._children.values()
        )

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:
            log.warning("second signal: stopping every child now")
            self._signal_children(signal.SIGKILL)
            os._exit(128 + signum)
        log.info("signal received: draining children", extra={"signal": signum})
        self._stopping = True
        self._signal_children(signal.SIGTERM)

    def _signal_children(self, signum: int) -> None:
        for process in self._children.values():
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    def run(self) -> int:
        """Start the children and keep them running until a signal; returns the exit code."""
        try:
            for index in range(self._count):
                self._spawn(index)
            while not self._stopping:
                self._restart_dead()
                time.sleep(0.2)
            return self._wait_all()
        finally:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _spawn(self, index: int) -> None:
        process = self._ctx.Process(
            target=self._child, args=(index,), name=f"taskengine-worker-{index}"
        )
        process.start()
        self._children[index] = process

    def _restart_dead(self) -> None:
        from prometheus_client import multiprocess

        for index, process in list(self._children.items()):
            if process.is_alive() or self._stopping:
                continue
            log.error(
                "worker process died; restarting",
                extra={"pid": process.pid, "exitcode": process.exitcode},
            )
            if process.pid is not None:
                multiprocess.mark_process_dead(process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
            time.sleep(_RESTART_DELAY_SECONDS)
            self._spawn(index)

    def _wait_all(self) -> int:
        codes = []
        for process in self._children.values():
            process.join()
            codes.append(process.exitcode)
        log.info("all worker processes stopped", extra={"exit_codes": codes})
        return 0 if all(code == 0 for code in codes) else 1
