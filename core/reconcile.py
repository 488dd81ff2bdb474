"""Keeping Redis true to PostgreSQL: the reaper and the reconciler.

- The reaper returns in-flight ids whose deadline passed to ready (a worker
  died holding them). Cheap; every worker process runs it.
- The reconciler closes the dual-write gap (PostgreSQL committed, the Redis
  push did not happen) by adding ids Redis lacks. In steady state it reads only
  queued rows changed since its last pass (minus a margin for transactions
  that committed late) and leases that expired. When the epoch marker is
  missing, Redis lost its data, and it rebuilds every queue from PostgreSQL.
  One reconciler runs at a time (a Redis lock).
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from core.dispatch import Dispatch, Placement
from core.logs import get_logger
from core.processor import placement_for
from core.store import JobState, Store

__all__ = ["ReconcileReport", "Reconciler"]

log = get_logger()

_NIL = UUID(int=0)
_PAGE = 1000
# Rows changed this long before a pass started are looked at again by the next
# one: a transaction's updated_at is its start, and it may commit later. The
# engine's own writes are single statements or short transactions.
_MARGIN = timedelta(seconds=10)


@dataclass(frozen=True)
class ReconcileReport:
    mode: str  # "steady", "full", or "skipped" (another reconciler holds the lock)
    examined: int
    dispatched: int

    def to_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "examined": self.examined, "dispatched": self.dispatched}


class Reconciler:
    def __init__(self, store: Store, dispatch: Dispatch, lock_seconds: float = 300) -> None:
        self.store = store
        self.dispatch = dispatch
        self._lock_seconds = lock_seconds

    def reap(self) -> int:
        """Return expired in-flight ids to ready, in every queue."""
        moved = 0
        for queue in self.dispatch.queues():
            reaped = self.dispatch.reap(queue)
            if reaped:
                log.warning("reaped expired claims", extra={"queue": queue, "count": len(reaped)})
            moved += len(reaped)
        return moved

    def run(self, full: bool = False) -> ReconcileReport:
        keys = self.dispatch.keys
        token = self.dispatch.try_lock(keys.reconcile_lock, self._lock_seconds)
        if token is None:
            return ReconcileReport("skipped", 0, 0)
        try:
            if full or self.dispatch.epoch() is None:
                return self._full()
            return self._steady()
        finally:
            self.dispatch.unlock(keys.reconcile_lock, token)

    def _full(self) -> ReconcileReport:
        started = self.store.now()
        log.warning("full resync of Redis from PostgreSQL")
        examined = dispatched = 0
        after = _NIL
        while page := self.store.active_page(after, _PAGE):
            examined += len(page)
            dispatched += self._ensure(page)
            after = page[-1].id
        self.dispatch.set_epoch()
        self._save_position(started - _MARGIN)
        log.info("full resync done", extra={"examined": examined, "dispatched": dispatched})
        return ReconcileReport("full", examined, dispatched)

    def _steady(self) -> ReconcileReport:
        started = self.store.now()
        since = self._load_position() or started - _MARGIN
        examined = dispatched = 0
        cursor = (since, _NIL)
        while page := self.store.queued_since(cursor, _PAGE):
            examined += len(page)
            dispatched += self._ensure(page)
            last = page[-1]
            cursor = (last.updated_at or since, last.id)
        expired = self.store.expired_leases(_PAGE)
        examined += len(expired)
        dispatched += self._requeue_expired(expired)
        self._save_position(started - _MARGIN)
        if dispatched:
            log.warning("reconciler dispatched jobs Redis had lost", extra={"count": dispatched})
        return ReconcileReport("steady", examined, dispatched)

    def _ensure(self, states: Sequence[JobState]) -> int:
        """Add the ids Redis has nowhere; ids it has are left as they are."""
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for state in states:
            by_queue[state.queue].append(placement_for(state))
        return sum(self.dispatch.place(q, p, mode="absent") for q, p in by_queue.items())

    def _requeue_expired(self, states: Sequence[JobState]) -> int:
        """Leases PostgreSQL says expired go back to ready, whatever Redis thought."""
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for state in states:
            by_queue[state.queue].append(Placement(state.id, "r", 0))
        return sum(self.dispatch.place(q, p) for q, p in by_queue.items())

    def _load_position(self) -> datetime | None:
        raw = self.dispatch.client.get(self.dispatch.keys.reconcile_after)
        return datetime.fromisoformat(json.loads(raw)) if raw else None

    def _save_position(self, since: datetime) -> None:
        self.dispatch.client.set(self.dispatch.keys.reconcile_after, json.dumps(since.isoformat()))
