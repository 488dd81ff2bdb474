"""Schema migrations: numbered plain-SQL files applied in order, each recorded once.

Safe to run twice and from several processes at once: a transaction-scoped
advisory lock serialises the runners, and the record table says what is done.
"""

from dataclasses import dataclass
from pathlib import Path

import pg8000.native

__all__ = ["Migration", "apply_migrations", "available_migrations", "pending_migrations"]

# An arbitrary constant: the advisory lock key all migration runners agree on.
_LOCK_KEY = 7_365_214_001


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = Path(__file__).parent / "sql" / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def _ensure_table(conn: pg8000.native.Connection) -> None:
    conn.run(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )


def applied_versions(conn: pg8000.native.Connection) -> set[int]:
    exists = conn.run("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0]
    if not exists:
        return set()
    return {row[0] for row in conn.run("SELECT version FROM schema_migrations")}


def pending_migrations(conn: pg8000.native.Connection) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in available_migrations() if m.version not in done]


def apply_migrations(conn: pg8000.native.Connection) -> list[Migration]:
    """Apply what is pending, in one transaction; returns what this call applied."""
    conn.run("BEGIN")
    try:
        conn.run("SELECT pg_advisory_xact_lock(:key)", key=_LOCK_KEY)
        _ensure_table(conn)
        applied = pending_migrations(conn)
        for migration in applied:
            conn.run(migration.sql)
            conn.run(
                "INSERT INTO schema_migrations (version, name) VALUES (:v, :n)",
                v=migration.version,
                n=migration.name,
            )
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise
    return applied
