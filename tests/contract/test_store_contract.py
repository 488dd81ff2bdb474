"""One suite, two stores: the in-memory fake must behave as PostgreSQL does."""

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from core.config import load_settings
from core.errors import ConflictError
from core.memstore import MemoryStore
from core.model import NewJob
from core.pgstore import PgStore
from core.status import JobStatus
from core.store import (
    LOST_LEASE_ERROR,
    Lease,
    ListFilter,
    Outcome,
    OutcomeKind,
    RedriveFilter,
    Store,
)
from core.validation import parse_new_job

SETTINGS = load_settings({})
NIL = uuid.UUID(int=0)


@pytest.fixture(params=["postgres", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    pg = PgStore(request.getfixturevalue("database_url"))
    yield pg
    pg.close()


def new(payload: dict[str, Any] | None = None, **fields: Any) -> NewJob:
    return parse_new_job({"payload": payload or {"type": "noop"}, **fields}, SETTINGS)


def running(store: Store, lease: float = 30.0, **fields: Any) -> Any:
    (job,) = store.insert([new(**fields)])
    (claimed,) = store.claim([job.id], lease)
    return claimed


def outcome(kind: OutcomeKind, job: Any, **fields: Any) -> Outcome:
    return Outcome(kind, job.id, job.attempts, job.queue, **fields)


def test_insert_and_get(store: Store) -> None:
    (job,) = store.insert([new({"type": "echo", "x": 1}, queue="q", max_attempts=3)])
    assert job.created and job.status is JobStatus.QUEUED
    got = store.get(job.id)
    assert got is not None
    assert (got.queue, got.type, got.payload, got.max_attempts) == (
        "q",
        "echo",
        {"type": "echo", "x": 1},
        3,
    )
    assert (got.attempts, got.attempts_left, got.errors, got.result) == (0, 3, [], None)
    assert got.run_at == got.created_at
    assert store.get(uuid.uuid4()) is None


def test_delayed_insert_runs_later(store: Store) -> None:
    (job,) = store.insert([new(delay_seconds=60)])
    assert job.run_at - job.created_at == timedelta(seconds=60)
    assert store.claim([job.id], 30) == []


def test_idempotent_replay_and_conflict(store: Store) -> None:
    (first,) = store.insert([new(idempotency_key="k")])
    (again,) = store.insert([new(idempotency_key="k")])
    assert again.id == first.id and not again.created
    batch = [new({"type": "noop", "i": 1}), new({"type": "other"}, idempotency_key="k")]
    with pytest.raises(ConflictError):
        store.insert(batch)
    assert [j.id for j in store.list_jobs(ListFilter())] == [first.id]  # nothing written


def test_same_key_twice_in_one_batch(store: Store) -> None:
    jobs = store.insert([new(idempotency_key="k"), new(idempotency_key="k")])
    assert jobs[0].id == jobs[1].id
    assert [j.created for j in jobs] == [True, False]


def test_list_filters_and_cursor(store: Store) -> None:
    ids = [j.id for j in store.insert([new(queue="a") for _ in range(3)])]
    ids += [j.id for j in store.insert([new({"type": "echo"}, queue="b") for _ in range(2)])]
    assert {j.id for j in store.list_jobs(ListFilter(queue="b"))} == set(ids[3:])
    assert {j.id for j in store.list_jobs(ListFilter(type="echo"))} == set(ids[3:])
    assert store.list_jobs(ListFilter(status=JobStatus.FAILED)) == []
    seen: list[uuid.UUID] = []
    after = None
    while page := store.list_jobs(ListFilter(limit=2, after=after)):
        seen.extend(j.id for j in page)
        after = (page[-1].created_at, page[-1].id)
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    keys = [(j.created_at, j.id) for j in store.list_jobs(ListFilter())]
    assert keys == sorted(keys, reverse=True)


def test_claim_starts_an_attempt_once(store: Store) -> None:
    (job,) = store.insert([new()])
    (claimed,) = store.claim([job.id, uuid.uuid4()], 30)
    assert (claimed.status, claimed.attempts) == (JobStatus.RUNNING, 1)
    assert claimed.lease_expires_at is not None and claimed.started_at is not None
    assert claimed.lease_expires_at - claimed.started_at == timedelta(seconds=30)
    assert store.claim([job.id], 30) == []  # the lease is live


def test_an_expired_lease_is_claimed_again_and_the_lost_attempt_recorded(store: Store) -> None:
    job = running(store, lease=0.2)
    time.sleep(0.3)
    (again,) = store.claim([job.id], 30)
    assert again.attempts == 2
    assert again.last_error == LOST_LEASE_ERROR
    assert [(e["attempt"], e["error"]) for e in again.errors] == [(1, LOST_LEASE_ERROR)]


def test_states(store: Store) -> None:
    job = running(store)
    (state,) = store.states([job.id, uuid.uuid4()])
    assert (state.id, state.queue, state.status) == (job.id, "default", JobStatus.RUNNING)
    assert state.lease_expires_at == job.lease_expires_at


def test_complete(store: Store) -> None:
    job = running(store)
    (placed,) = store.record([outcome(OutcomeKind.COMPLETE, job, result={"ok": [1]})])
    assert placed.at is None
    done = store.get(job.id)
    assert done and (done.status, done.result, done.lease_expires_at) == (
        JobStatus.COMPLETED,
        {"ok": [1]},
        None,
    )
    assert done.finished_at is not None


def test_retry_dead_letter_and_release_record_errors(store: Store) -> None:
    retried, dead, released = (running(store) for _ in range(3))
    placed = store.record(
        [
            outcome(OutcomeKind.RETRY, retried, error="e1", delay_seconds=60),
            outcome(OutcomeKind.DEAD_LETTER, dead, error="e2"),
            outcome(OutcomeKind.RELEASE, released, error="e3"),
        ]
    )
    assert len(placed) == 3
    for job, status, error in (
        (retried, JobStatus.QUEUED, "e1"),
        (dead, JobStatus.FAILED, "e2"),
        (released, JobStatus.QUEUED, "e3"),
    ):
        got = store.get(job.id)
        assert got is not None
        assert (got.status, got.last_error, got.attempts) == (status, error, 1)
        assert [(e["attempt"], e["error"]) for e in got.errors] == [(1, error)]
        assert got.lease_expires_at is None
    later = store.get(retried.id)
    assert later and later.run_at - later.updated_at == timedelta(seconds=60)
    now_ready = store.get(released.id)
    assert now_ready and now_ready.run_at == now_ready.updated_at
    dead_job = store.get(dead.id)
    assert dead_job and dead_job.finished_at is not None


def test_a_stale_attempt_is_fenced_off(store: Store) -> None:
    job = running(store, lease=0.2)
    time.sleep(0.3)
    (current,) = store.claim([job.id], 30)
    assert store.record([outcome(OutcomeKind.COMPLETE, job, result=1)]) == []
    assert store.extend_leases([Lease(job.id, job.attempts)], 30) == []
    got = store.get(job.id)
    assert got and got.status is JobStatus.RUNNING
    assert len(store.record([outcome(OutcomeKind.COMPLETE, current, result=2)])) == 1
    assert store.record([outcome(OutcomeKind.DEAD_LETTER, current, error="x")]) == []


def test_extend_leases(store: Store) -> None:
    job = running(store, lease=1)
    assert store.extend_leases([Lease(job.id, job.attempts)], 60) == [job.id]
    got = store.get(job.id)
    assert got and got.lease_expires_at and job.lease_expires_at
    assert got.lease_expires_at > job.lease_expires_at + timedelta(seconds=50)


def _dead(store: Store, **fields: Any) -> Any:
    job = running(store, **fields)
    store.record([outcome(OutcomeKind.DEAD_LETTER, job, error="boom")])
    return job


def test_redrive(store: Store) -> None:
    a, b = _dead(store, queue="a"), _dead(store, queue="b", payload={"type": "echo"})
    busy = running(store)
    assert {s.id for s in store.redrive(RedriveFilter(queue="a"), dry_run=True)} == {a.id}
    assert store.get(a.id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert [s.id for s in store.redrive(RedriveFilter(type="echo"), dry_run=True)] == [b.id]
    assert len(store.redrive(RedriveFilter(limit=1), dry_run=True)) == 1
    assert store.redrive(RedriveFilter(ids=[busy.id]), dry_run=False) == []
    redriven = store.redrive(RedriveFilter(ids=[a.id, b.id]), dry_run=False)
    assert {s.id for s in redriven} == {a.id, b.id}
    assert all(s.status is JobStatus.QUEUED for s in redriven)
    assert store.redrive(RedriveFilter(ids=[a.id, b.id]), dry_run=False) == []
    got = store.get(a.id)
    assert got is not None
    assert (got.status, got.attempts, got.budget_start, got.redrives) == (JobStatus.QUEUED, 1, 1, 1)
    assert (got.attempts_left, got.result, got.finished_at) == (got.max_attempts, None, None)
    assert [e["error"] for e in got.errors] == ["boom"]
    (again,) = store.claim([a.id], 30)
    assert again.attempts == 2


def test_queued_since_pages_in_update_order(store: Store) -> None:
    jobs = store.insert([new() for _ in range(3)])
    start = (jobs[0].updated_at - timedelta(seconds=1), NIL)
    first = store.queued_since(start, 2)
    rest = store.queued_since((first[-1].updated_at, first[-1].id), 2)  # type: ignore[arg-type]
    assert len(first) == 2 and len(rest) == 1
    assert {s.id for s in first + rest} == {j.id for j in jobs}
    running(store)
    assert len(store.queued_since(start, 10)) == 3  # running jobs are not queued


def test_expired_leases(store: Store) -> None:
    job = running(store, lease=0.2)
    running(store, lease=60)
    time.sleep(0.3)
    assert [s.id for s in store.expired_leases(10)] == [job.id]


def test_active_page_lists_what_redis_must_know(store: Store) -> None:
    queued = store.insert([new()])[0]
    busy = running(store)
    dead = _dead(store)
    done = running(store)
    store.record([outcome(OutcomeKind.COMPLETE, done, result=None)])
    page = store.active_page(NIL, 10)
    assert {s.id: s.status for s in page} == {
        queued.id: JobStatus.QUEUED,
        busy.id: JobStatus.RUNNING,
        dead.id: JobStatus.FAILED,
    }
    assert [s.id for s in page] == sorted(s.id for s in page)
    assert store.active_page(page[0].id, 10) == page[1:]


def test_now_is_aware(store: Store) -> None:
    assert store.now().utcoffset() == timedelta(0)
