"""What the runner needs from each peer module (peer_<name>.py exports PEER).

A peer's client is either synchronous or asyncio-based, whichever its docs use to
enqueue; the runner drives each kind its own way (threads or one event loop).
"""

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench.peers.naming import Run
from bench.peers.sink import Sink

__all__ = ["AsyncClient", "Peer", "SyncClient", "WorkerPlan", "cli"]


class SyncClient(Protocol):
    def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None: ...

    def submit(self, ref: str, enqueued: float) -> None: ...

    def close(self) -> None: ...


class AsyncClient(Protocol):
    async def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None: ...

    async def submit(self, ref: str, enqueued: float) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class WorkerPlan:
    commands: list[list[str]]  # one subprocess each
    config: str  # how the worker ran, for the report


def cli(name: str) -> str:
    """A console script of the peer venv (the one running this module)."""
    return str(Path(sys.executable).with_name(name))


def _nothing(run: Run) -> None:
    """Peers whose every name already carries the run id need no extra step."""


def _no_extra_cleanup(run: Run, sink: Sink) -> None:
    """Peers whose every key matches the run's pattern need no extra cleanup."""


@dataclass(frozen=True)
class Peer:
    name: str
    version: str
    persists: str
    workers: Callable[[Run], WorkerPlan]
    sync_client: Callable[[], SyncClient] | None = None
    async_client: Callable[[], Awaitable[AsyncClient]] | None = None
    prepare: Callable[[Run], None] = field(default=_nothing)
    cleanup: Callable[[Run, Sink], None] = field(default=_no_extra_cleanup)
