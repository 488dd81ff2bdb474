"""Liveness and readiness checks shared by the worker's port and the HTTP API."""

from collections.abc import Callable
from dataclasses import dataclass

import redis

from core.db import connect
from core.migrate import pending_migrations

__all__ = ["Check", "readiness"]


@dataclass(frozen=True)
class Check:
    ok: bool
    details: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "unavailable", "checks": self.details}


def readiness(database_url: str, redis_url: str) -> Check:
    """PostgreSQL reachable with every migration applied, and Redis answering."""
    details = {
        "postgres": _probe(lambda: _postgres(database_url)),
        "redis": _probe(lambda: _redis(redis_url)),
    }
    return Check(all(v == "ok" for v in details.values()), details)


def _postgres(url: str) -> str:
    conn = connect(url, "taskengine-readyz")
    try:
        pending = pending_migrations(conn)
    finally:
        conn.close()
    if pending:
        return "migrations pending: " + ", ".join(str(m.version) for m in pending)
    return "ok"


def _redis(url: str) -> str:
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _probe(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:
        return f"error: {exc}"
