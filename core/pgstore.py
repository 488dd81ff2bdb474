"""The PostgreSQL job store (pg8000): guarded transitions, batched in one statement each."""

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import pg8000.native

from core.db import ConnectionSpec, parse_database_url
from core.errors import ConflictError
from core.model import Job, NewJob
from core.queries import query
from core.status import JobStatus
from core.store import (
    LOST_LEASE_ERROR,
    JobState,
    Lease,
    ListFilter,
    Outcome,
    OutcomeKind,
    Placed,
    RedriveFilter,
)

__all__ = ["PgStore", "ThreadLocalPgStore"]

_NIL = UUID(int=0)


class PgStore:
    """One connection, used by one thread at a time; hot statements are prepared once."""

    def __init__(self, database_url: str, application_name: str = "taskengine") -> None:
        self._spec: ConnectionSpec = parse_database_url(database_url)
        self._application_name = application_name
        self._conn: pg8000.native.Connection | None = None
        self._prepared: dict[str, Any] = {}

    # -- connection -----------------------------------------------------------

    @property
    def conn(self) -> pg8000.native.Connection:
        if self._conn is None:
            self._conn = self._spec.connect(self._application_name)
            # Every query here finds its rows through an index. PostgreSQL caches a
            # prepared statement's generic plan after five runs; one made while the
            # jobs table was nearly empty is a sequential scan, kept however large the
            # table grows (a steady 1,000 jobs/s fell 9 s behind within 60 s). With
            # sequential scans priced out the cached plan is an index lookup at any size.
            self._conn.run("SET enable_seqscan = off")
            self._prepared = {}
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            # A connection already broken has nothing left to release.
            with contextlib.suppress(pg8000.native.InterfaceError, OSError):
                self._conn.close()
        self._conn = None
        self._prepared = {}

    def _run(self, name: str, **params: Any) -> list[list[Any]]:
        """Run a named query as a prepared statement, reconnecting after a broken link."""
        try:
            statement = self._prepared.get(name)
            if statement is None:
                statement = self.conn.prepare(query(name))
                self._prepared[name] = statement
            rows: list[list[Any]] = statement.run(**params)
            return rows
        except (pg8000.native.InterfaceError, OSError):
            self.close()
            raise

    def _transaction(self, body: Callable[[], Any]) -> Any:
        self._run_plain("BEGIN")
        try:
            result = body()
        except BaseException:
            if self._conn is not None:
                try:
                    self._run_plain("ROLLBACK")
                except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError):
                    self.close()
            raise
        self._run_plain("COMMIT")
        return result

    def _run_plain(self, sql: str) -> None:
        try:
            self.conn.run(sql)
        except (pg8000.native.InterfaceError, OSError):
            self.close()
            raise

    # -- creating and reading -------------------------------------------------

    def insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        if not jobs:
            return []
        if not any(j.idempotency_key for j in jobs):
            # One statement is atomic on its own: skip BEGIN/COMMIT round trips.
            return self._insert(jobs)
        return list(self._transaction(lambda: self._insert(jobs)))

    def _insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        rows = self._run(
            "insert_jobs",
            rows=json.dumps(
                [
                    {
                        "id": str(j.id),
                        "queue": j.queue,
                        "type": j.type,
                        "payload": j.payload,
                        "max_attempts": j.max_attempts,
                        "delay": j.delay_seconds,
                        "idempotency_key": j.idempotency_key,
                        "request_id": j.request_id,
                    }
                    for j in jobs
                ]
            ),
        )
        inserted = {row[0]: row for row in rows}
        replayed = self._existing(
            [j.idempotency_key for j in jobs if j.id not in inserted and j.idempotency_key]
        )
        return [
            _created(job, inserted[job.id]) if job.id in inserted else _replay(job, replayed)
            for job in jobs
        ]

    def _existing(self, keys: list[str]) -> dict[str, Job]:
        if not keys:
            return {}
        rows = self._run("jobs_by_keys", keys=keys)
        return {job.idempotency_key: job for job in map(Job.from_row, rows) if job.idempotency_key}

    def get(self, job_id: UUID) -> Job | None:
        rows = self._run("get_job", id=str(job_id))
        return Job.from_row(rows[0]) if rows else None

    def list_jobs(self, where: ListFilter) -> list[Job]:
        after_ts, after_id = where.after if where.after else (None, None)
        # Not prepared: a custom plan per call lets PostgreSQL fold the absent filters.
        rows = self.conn.run(
            query("list_jobs"),
            status=where.status.value if where.status else None,
            queue=where.queue,
            type=where.type,
            after_ts=after_ts,
            after_id=str(after_id) if after_id else None,
            limit=where.limit,
        )
        return [Job.from_row(row) for row in rows]

    # -- running --------------------------------------------------------------

    def claim(self, ids: Sequence[UUID], lease_seconds: float) -> list[Job]:
        if not ids:
            return []
        rows = self._run(
            "claim_jobs",
            ids=_id_array(ids),
            lease_seconds=float(lease_seconds),
            lost_error=LOST_LEASE_ERROR,
        )
        return [Job.from_row(row) for row in rows]

    def states(self, ids: Sequence[UUID]) -> list[JobState]:
        if not ids:
            return []
        rows = self._run("job_states", ids=_id_array(ids))
        return [JobState(r[0], r[1], JobStatus(r[2]), r[3], r[4]) for r in rows]

    def record(self, outcomes: Sequence[Outcome]) -> list[Placed]:
        if not outcomes:
            return []
        by_kind: dict[OutcomeKind, list[Outcome]] = {}
        for outcome in outcomes:
            by_kind.setdefault(outcome.kind, []).append(outcome)
        if len(by_kind) == 1:
            # One statement is atomic on its own: skip BEGIN/COMMIT round trips.
            return self._record(by_kind)
        return list(self._transaction(lambda: self._record(by_kind)))

    def _record(self, by_kind: dict[OutcomeKind, list[Outcome]]) -> list[Placed]:
        placed: list[Placed] = []
        for kind, group in by_kind.items():
            rows = self._run(_OUTCOME_QUERY[kind], **_outcome_params(kind, group))
            applied = {row[0]: (row[1] if len(row) > 1 else None) for row in rows}
            placed.extend(Placed(o, applied[o.id]) for o in group if o.id in applied)
        return placed

    def extend_leases(self, leases: Sequence[Lease], lease_seconds: float) -> list[UUID]:
        if not leases:
            return []
        rows = self._run(
            "extend_leases",
            rows=json.dumps([{"id": str(x.id), "attempt": x.attempt} for x in leases]),
            ids=_id_array([x.id for x in leases]),
            lease_seconds=float(lease_seconds),
        )
        return [row[0] for row in rows]

    # -- operating ------------------------------------------------------------

    def redrive(self, where: RedriveFilter, dry_run: bool) -> list[JobState]:
        params = {
            "ids": _id_array(where.ids) if where.ids is not None else None,
            "queue": where.queue,
            "type": where.type,
            "limit": where.limit,
        }
        name = "redrive_candidates" if dry_run else "redrive_jobs"
        rows = self.conn.run(query(name), **params)
        status = JobStatus.FAILED if dry_run else JobStatus.QUEUED
        return [JobState(r[0], r[1], status, r[2]) for r in rows]

    def queued_since(self, after: tuple[datetime, UUID], limit: int) -> list[JobState]:
        rows = self._run("queued_since", after_ts=after[0], after_id=str(after[1]), limit=limit)
        return [JobState(r[0], r[1], JobStatus.QUEUED, r[2], updated_at=r[3]) for r in rows]

    def expired_leases(self, limit: int) -> list[JobState]:
        rows = self._run("expired_leases", limit=limit)
        return [JobState(r[0], r[1], JobStatus.RUNNING, r[2], r[2]) for r in rows]

    def active_page(self, after_id: UUID, limit: int) -> list[JobState]:
        rows = self._run("active_page", after_id=str(after_id), limit=limit)
        return [
            JobState(r[0], r[1], JobStatus(r[2]), r[5] if r[2] == "failed" else r[3], r[4])
            for r in rows
        ]

    def now(self) -> datetime:
        moment: datetime = self._run("db_now")[0][0]
        return moment


_OUTCOME_QUERY = {
    OutcomeKind.COMPLETE: "complete_jobs",
    OutcomeKind.RETRY: "retry_jobs",
    OutcomeKind.DEAD_LETTER: "dead_letter_jobs",
    OutcomeKind.RELEASE: "retry_jobs",
}


def _outcome_params(kind: OutcomeKind, group: list[Outcome]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for o in group:
        row: dict[str, Any] = {"id": str(o.id), "attempt": o.attempt}
        if kind is OutcomeKind.COMPLETE:
            row["result"] = o.result
        else:
            row["error"] = o.error or ""
        if kind in (OutcomeKind.RETRY, OutcomeKind.RELEASE):
            row["delay"] = float(o.delay_seconds)
        rows.append(row)
    return {"rows": json.dumps(rows), "ids": _id_array([o.id for o in group])}


def _id_array(ids: Sequence[UUID]) -> str:
    """A uuid[] literal: UUIDs need no quoting."""
    return "{" + ",".join(str(i) for i in ids) + "}"


def _created(job: NewJob, row: list[Any]) -> Job:
    _, run_at, created_at = row
    return job.to_job(run_at, created_at)


def _replay(job: NewJob, existing: dict[str, Job]) -> Job:
    """The job an idempotency key already names; raising rolls the whole insert back."""
    assert job.idempotency_key is not None
    found = existing.get(job.idempotency_key)
    if found is None:
        # Cannot happen while the insert and this look-up share a transaction.
        raise ConflictError(f"idempotency key {job.idempotency_key!r} changed hands; retry")
    if not job.same_request(found):
        raise ConflictError(
            f"idempotency key {job.idempotency_key!r} is already used by job {found.id} "
            "with a different request"
        )
    return Job(**{**found.__dict__, "created": False})


class ThreadLocalPgStore:
    """A PgStore per thread, for a multi-threaded server (a connection serves one
    thread at a time). Attribute access goes to the calling thread's store."""

    def __init__(self, database_url: str, application_name: str = "taskengine") -> None:
        self._url = database_url
        self._application_name = application_name
        self._local = threading.local()

    def _mine(self) -> PgStore:
        store: PgStore | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = PgStore(self._url, self._application_name)
        return store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mine(), name)
