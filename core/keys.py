"""Every Redis key name, in one place.

Per queue ``q`` under prefix ``p``:

- ``p:q:<q>:ready``    ZSET id -> ms since epoch it became ready (FIFO order)
- ``p:q:<q>:delayed``  ZSET id -> ms it becomes due (backoff, delayed submit)
- ``p:q:<q>:inflight`` ZSET id -> ms its claim expires (the reaper's deadline)
- ``p:q:<q>:dead``     ZSET id -> ms it failed (the DLQ index)
- ``p:q:<q>:wake``     LIST of at most one token: blocked workers wait on it

Global:

- ``p:queues``          SET of queue names ever used
- ``p:epoch``           marker written by a full resync; missing means Redis lost data
- ``p:reconcile:after`` where the reconciler's steady-state scan resumes
- ``p:reconcile:lock``  one reconciler at a time
"""

from dataclasses import dataclass

__all__ = ["Keys", "QueueKeys"]


@dataclass(frozen=True)
class QueueKeys:
    ready: str
    delayed: str
    inflight: str
    dead: str
    wake: str


@dataclass(frozen=True)
class Keys:
    prefix: str

    def queue(self, name: str) -> QueueKeys:
        base = f"{self.prefix}:q:{name}"
        return QueueKeys(
            ready=f"{base}:ready",
            delayed=f"{base}:delayed",
            inflight=f"{base}:inflight",
            dead=f"{base}:dead",
            wake=f"{base}:wake",
        )

    @property
    def queues(self) -> str:
        return f"{self.prefix}:queues"

    @property
    def epoch(self) -> str:
        return f"{self.prefix}:epoch"

    @property
    def reconcile_after(self) -> str:
        return f"{self.prefix}:reconcile:after"

    @property
    def reconcile_lock(self) -> str:
        return f"{self.prefix}:reconcile:lock"
