"""Every name a peer run creates: queues, Redis keys, the PostgreSQL database.

They all carry the run's random id, so that concurrent runs (and task-engine's own
benchmark on the same servers) never collide, and cleanup can delete what this run
made and nothing else. The runner hands the run to worker processes through the
environment, since each peer's worker CLI imports the peer module on its own.
"""

import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Run"]

_ID, _REDIS, _DATABASE = "TE_PEER_RUN", "TE_PEER_REDIS_URL", "TE_PEER_DATABASE_URL"
_CONCURRENCY = "TE_PEER_CONCURRENCY"


@dataclass(frozen=True)
class Run:
    id: str
    redis_url: str
    database_url: str  # the server's; procrastinate gets a database of its own
    concurrency: int  # jobs a worker runs at once, where the peer has such a setting

    @classmethod
    def new(cls, redis_url: str, database_url: str, concurrency: int) -> "Run":
        return cls(secrets.token_hex(6), redis_url, database_url, concurrency)

    @classmethod
    def from_env(cls) -> "Run":
        env = os.environ
        return cls(env[_ID], env[_REDIS], env[_DATABASE], int(env[_CONCURRENCY]))

    def to_env(self) -> dict[str, str]:
        return {
            _ID: self.id,
            _REDIS: self.redis_url,
            _DATABASE: self.database_url,
            _CONCURRENCY: str(self.concurrency),
        }

    @property
    def queue(self) -> str:
        return f"te_peer_{self.id}"

    @property
    def sink(self) -> str:
        """The Redis list every peer's task appends its record to."""
        return f"te_peer:{self.id}:records"

    @property
    def key_prefix(self) -> str:
        return f"te_peer:{self.id}:"

    @property
    def key_pattern(self) -> str:
        """Matches every Redis key of this run, whichever peer named it."""
        return f"*te_peer*{self.id}*"

    def job_id(self, key: str) -> str:
        return f"te_peer_{self.id}_{key}"

    @property
    def database(self) -> str:
        return f"te_peer_{self.id}"

    @property
    def run_database_url(self) -> str:
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(path=f"/{self.database}"))
