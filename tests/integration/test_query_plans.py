"""The hot queries keep finding rows by the primary key as the jobs table grows.

PostgreSQL caches a prepared statement's generic plan after five runs. A plan
made while the table was nearly empty (a sequential scan, or a partial index
scanned whole, dead entries included) used to stay with a worker's connection
however large the table grew, so that each claim and each recorded outcome cost
more with every job a run added. The statements here are prepared exactly as
the store prepares them, on one of its connections, on an empty table; their
cached plans are read after the table has grown.
"""

import json
import uuid

import pg8000.native
import pytest

from core.pgstore import PgStore
from core.queries import query

_HOT = ["claim_jobs", "complete_jobs", "retry_jobs", "dead_letter_jobs", "extend_leases"]
_PARTIAL_INDEXES = ("jobs_queued_updated_idx", "jobs_running_lease_idx", "jobs_failed_idx")


def _arguments(ids: list[str]) -> dict[str, object]:
    rows = [{"id": i, "attempt": 1, "result": None, "error": "e", "delay": 0.0} for i in ids]
    return {
        "ids": "{" + ",".join(ids) + "}",
        "rows": json.dumps(rows),
        "lease_seconds": 30.0,
        "lost_error": "lost",
    }


def _literal(value: object) -> str:
    text = str(value).replace("'", "''")
    return f"'{text}'"


@pytest.mark.parametrize("name", _HOT)
def test_a_plan_cached_on_an_empty_table_still_uses_the_primary_key(
    database_url: str, name: str
) -> None:
    store = PgStore(database_url)
    conn = store.conn
    sql, make_args = pg8000.native.to_statement(query(name))
    conn.run(f"PREPARE hot AS {sql}")
    nobody = ", ".join(_literal(a) for a in make_args(_arguments([str(uuid.uuid4())])))
    for _ in range(6):  # the sixth run onwards may use the cached generic plan
        conn.run(f"EXECUTE hot({nobody})")
    conn.run(
        """INSERT INTO jobs (id, queue, type, payload, status, max_attempts, run_at, attempts,
                             lease_expires_at)
           SELECT gen_random_uuid(), 'default', 'noop', '{}',
                  (ARRAY['queued', 'running', 'completed'])[1 + n % 3], 3, now(), 1,
                  now() + interval '30 seconds'
           FROM generate_series(1, 20000) AS n"""
    )
    some = [str(r[0]) for r in conn.run("SELECT id FROM jobs LIMIT 32")]
    args = ", ".join(_literal(a) for a in make_args(_arguments(some)))
    plan = "\n".join(row[0] for row in conn.run(f"EXPLAIN EXECUTE hot({args})"))
    conn.run("DEALLOCATE hot")
    store.close()
    assert "Seq Scan on jobs" not in plan, plan
    assert not any(index in plan for index in _PARTIAL_INDEXES), plan
    assert "jobs_pkey" in plan, plan
