"""Redis dispatch: which job ids are ready, delayed, in flight and dead, per queue.

Redis is an index that PostgreSQL can rebuild (see core.reconcile); every
multi-step change here is one Lua script (core/lua/, key layout in core.keys).
Times are milliseconds since the Unix epoch.
"""

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import redis

from core.keys import Keys

__all__ = ["Claimed", "Dispatch", "Placement", "QueueDepth", "ms", "now_ms"]

Target = Literal["r", "i", "d", "x"]
Mode = Literal["move", "absent", "new"]


def now_ms() -> int:
    return int(time.time() * 1000)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Placement:
    """Where one id belongs: ``r`` ready/delayed by score, ``i`` in flight, ``d`` dead,
    ``x`` nowhere."""

    id: uuid.UUID | str
    target: Target
    score: int


@dataclass(frozen=True)
class Claimed:
    ids: list[str]
    ready_left: int
    next_due_ms: int | None


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    delayed: int
    running: int
    failed: int
    oldest_ready_ms: int | None


def _script(client: "redis.Redis", name: str) -> Any:
    source = (Path(__file__).parent / "lua" / f"{name}.lua").read_text()
    return client.register_script(source)


class Dispatch:
    def __init__(self, url: str, prefix: str) -> None:
        self.keys = Keys(prefix)
        self.client: redis.Redis = redis.Redis.from_url(
            url, decode_responses=True, health_check_interval=30
        )
        self._place = _script(self.client, "place")
        self._claim = _script(self.client, "claim")
        self._reap = _script(self.client, "reap")
        self._waiter: redis.Redis | None = None
        self._url = url

    def close(self) -> None:
        self.client.close()
        if self._waiter is not None:
            self._waiter.close()

    def ping(self) -> bool:
        return bool(self.client.ping())

    # -- placing ids ----------------------------------------------------------

    def place(self, queue: str, placements: Sequence[Placement], mode: Mode = "move") -> int:
        """Put ids where they belong. ``move``: wherever they are now; ``absent``: only
        ids Redis lacks (the reconciler); ``new``: ids never placed (a submit)."""
        if not placements:
            return 0
        return int(self._place(**self._place_call(queue, placements, mode, now_ms())))

    def place_many(self, by_queue: dict[str, list[Placement]], mode: Mode = "move") -> None:
        """One round trip for placements in several queues (each queue atomically)."""
        if len(by_queue) <= 1:
            for queue, placements in by_queue.items():
                self.place(queue, placements, mode)
            return
        pipe = self.client.pipeline(transaction=False)
        now = now_ms()
        for queue, placements in by_queue.items():
            self._place(**self._place_call(queue, placements, mode, now), client=pipe)
        pipe.execute()

    def _place_call(
        self, queue: str, placements: Sequence[Placement], mode: Mode, now: int
    ) -> dict[str, list[Any]]:
        k = self.keys.queue(queue)
        args: list[Any] = [queue, now, mode]
        for p in placements:
            args.extend((str(p.id), p.target, p.score))
        return {
            "keys": [k.ready, k.delayed, k.inflight, k.dead, k.wake, self.keys.queues],
            "args": args,
        }

    # -- claiming -------------------------------------------------------------

    def claim(self, queue: str, count: int, lease_ms: int) -> Claimed:
        k = self.keys.queue(queue)
        now = now_ms()
        ids, left, next_due = self._claim(
            keys=[k.ready, k.delayed, k.inflight, k.wake], args=[now, count, now + lease_ms]
        )
        return Claimed(list(ids), int(left), int(float(next_due)) if next_due else None)

    def wait_for_work(self, queues: Iterable[str], timeout: float) -> bool:
        """Block until a wake token arrives on one of the queues, or the timeout passes."""
        if self._waiter is None:
            # A blocking call holds its connection: give it one of its own.
            self._waiter = redis.Redis.from_url(
                self._url, decode_responses=True, socket_timeout=timeout + 10
            )
        keys = [self.keys.queue(q).wake for q in queues]
        return self._waiter.blpop(keys, timeout=max(timeout, 0.01)) is not None

    def extend(self, queue: str, ids: Sequence[str], deadline_ms: int) -> None:
        """Push back the reaper's deadline of ids still held (ids no longer in flight stay out)."""
        if ids:
            self.client.zadd(
                self.keys.queue(queue).inflight, dict.fromkeys(ids, deadline_ms), xx=True
            )

    def reap(self, queue: str, limit: int = 1000) -> list[str]:
        """Return in-flight ids whose deadline passed to ready."""
        k = self.keys.queue(queue)
        return list(self._reap(keys=[k.ready, k.inflight, k.wake], args=[now_ms(), limit]))

    # -- reading --------------------------------------------------------------

    def queues(self) -> list[str]:
        return sorted(str(name) for name in self.client.smembers(self.keys.queues))

    def depths(self, queues: Sequence[str]) -> list[QueueDepth]:
        pipe = self.client.pipeline(transaction=False)
        for q in queues:
            k = self.keys.queue(q)
            for key in (k.ready, k.delayed, k.inflight, k.dead):
                pipe.zcard(key)
            pipe.zrange(k.ready, 0, 0, withscores=True)
        replies = pipe.execute()
        depths = []
        for i, q in enumerate(queues):
            ready, delayed, running, failed, oldest = replies[i * 5 : i * 5 + 5]
            oldest_ms = int(oldest[0][1]) if oldest else None
            depths.append(QueueDepth(q, ready, delayed, running, failed, oldest_ms))
        return depths

    def ready_total(self) -> int:
        queues = self.queues()
        pipe = self.client.pipeline(transaction=False)
        for q in queues:
            k = self.keys.queue(q)
            pipe.zcard(k.ready)
            pipe.zcard(k.delayed)
        return int(sum(pipe.execute()))

    # -- the data-loss marker -------------------------------------------------

    def epoch(self) -> str | None:
        value = self.client.get(self.keys.epoch)
        return None if value is None else str(value)

    def set_epoch(self) -> str:
        value = uuid.uuid4().hex
        self.client.set(self.keys.epoch, value)
        return value

    def try_lock(self, key: str, ttl_seconds: float) -> str | None:
        token = uuid.uuid4().hex
        if self.client.set(key, token, nx=True, px=int(ttl_seconds * 1000)):
            return token
        return None

    def unlock(self, key: str, token: str) -> None:
        # Only the holder may delete: compare and delete in one step.
        self.client.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"
            " return 0",
            1,
            key,
            token,
        )
