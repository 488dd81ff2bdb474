"""The job lifecycle against real PostgreSQL and Redis, driven in-process."""

import time
import uuid
from collections.abc import Iterator

import pytest

from core.config import Settings
from core.errors import ConflictError, NotFoundError
from core.processor import Processor
from core.service import JobService
from core.status import JobStatus
from core.store import ListFilter, RedriveFilter
from core.validation import decode_cursor, parse_new_job
from tests.support.build import close, processor_for, service_for
from tests.support.drive import process_until_terminal


@pytest.fixture
def service(settings: Settings) -> Iterator[JobService]:
    svc = service_for(settings)
    yield svc
    close(svc)


@pytest.fixture
def processor(settings: Settings) -> Iterator[Processor]:
    proc = processor_for(settings)
    yield proc
    close(proc)


def submit(service: JobService, payload: dict, **fields: object) -> uuid.UUID:
    job = service.submit(parse_new_job({"payload": payload, **fields}, service.settings))
    return job.id


def test_success_stores_result(service: JobService, processor: Processor) -> None:
    job_id = submit(service, {"type": "echo", "value": 42})
    process_until_terminal(processor, [job_id])
    job = service.get(job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.result == {"type": "echo", "value": 42}
    assert job.attempts == 1
    assert job.errors == []
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at


def test_fail_until_attempt_2_succeeds_on_attempt_3(
    service: JobService, processor: Processor
) -> None:
    job_id = submit(service, {"type": "demo", "fail_until_attempt": 2, "error": "flaky"})
    process_until_terminal(processor, [job_id])
    job = service.get(job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.attempts == 3
    assert [e["attempt"] for e in job.errors] == [1, 2]
    assert all("flaky" in e["error"] for e in job.errors)
    assert job.result == {"attempt": 3, "duration_ms": 0}


def test_exhausted_attempts_land_in_dlq_with_history(
    service: JobService, processor: Processor
) -> None:
    job_id = submit(service, {"type": "demo", "fail": True, "error": "boom"}, max_attempts=3)
    process_until_terminal(processor, [job_id])
    job = service.get(job_id)
    assert job.status is JobStatus.FAILED
    assert job.attempts == 3
    assert [e["attempt"] for e in job.errors] == [1, 2, 3]
    assert job.last_error == "DemoFailure: boom"
    dlq = service.list_jobs(ListFilter(status=JobStatus.FAILED)).jobs
    assert [j.id for j in dlq] == [job_id]
    assert service.queue_depths()[0].failed == 1


def test_permanent_error_fails_after_one_attempt(service: JobService, processor: Processor) -> None:
    job_id = submit(service, {"type": "demo", "fail": True, "permanent": True})
    process_until_terminal(processor, [job_id])
    job = service.get(job_id)
    assert job.status is JobStatus.FAILED
    assert job.attempts == 1
    assert job.last_error and job.last_error.startswith("PermanentError")


def test_unknown_type_is_a_permanent_failure(service: JobService, processor: Processor) -> None:
    job_id = submit(service, {"type": "no-such-type"})
    process_until_terminal(processor, [job_id])
    job = service.get(job_id)
    assert job.status is JobStatus.FAILED
    assert job.attempts == 1
    assert "unknown job type 'no-such-type'" in (job.last_error or "")


def test_redrive_completes_keeps_history_and_grants_fresh_budget(
    service: JobService, processor: Processor
) -> None:
    job_id = submit(service, {"type": "demo", "fail_until_attempt": 3}, max_attempts=2)
    process_until_terminal(processor, [job_id])
    assert service.get(job_id).status is JobStatus.FAILED

    dry = service.redrive(RedriveFilter(ids=[job_id]), dry_run=True)
    assert dry.ids == [job_id]
    assert service.get(job_id).status is JobStatus.FAILED  # a dry run changes nothing

    result = service.redrive(RedriveFilter(ids=[job_id]))
    assert result.ids == [job_id]
    again = service.redrive(RedriveFilter(ids=[job_id]))
    assert again.ids == []  # redriving twice is harmless

    requeued = service.get(job_id)
    assert requeued.status is JobStatus.QUEUED
    assert requeued.attempts == 2  # attempts only grow: they are the fencing token
    assert requeued.attempts_left == 2
    assert requeued.redrives == 1
    process_until_terminal(processor, [job_id])
    done = service.get(job_id)
    assert done.status is JobStatus.COMPLETED
    assert done.attempts == 4
    assert [e["attempt"] for e in done.errors] == [1, 2, 3]


def test_redrive_filters_by_queue_type_and_limit(service: JobService, processor: Processor) -> None:
    ids = [
        submit(service, {"type": "demo", "fail": True}, max_attempts=1, queue=q)
        for q in ("a", "a", "b")
    ]
    process_until_terminal(processor, ids, queues=("a", "b"))
    assert service.redrive(RedriveFilter(queue="b"), dry_run=True).ids == [ids[2]]
    assert service.redrive(RedriveFilter(type="demo"), dry_run=True).count == 3
    limited = service.redrive(RedriveFilter(queue="a", limit=1))
    assert limited.count == 1
    assert service.redrive(RedriveFilter(queue="a"), dry_run=True).count == 1


def test_redrive_never_touches_running_jobs(service: JobService, processor: Processor) -> None:
    job_id = submit(service, {"type": "noop"})
    batch = processor.claim(("default",), 10)
    assert [j.id for j in batch.jobs] == [job_id]
    assert service.redrive(RedriveFilter(ids=[job_id])).ids == []
    assert service.get(job_id).status is JobStatus.RUNNING


def test_fencing_stale_holder_cannot_complete(settings: Settings, service: JobService) -> None:
    first = processor_for(settings, lease_seconds=0.3)
    second = processor_for(settings)
    job_id = submit(service, {"type": "echo", "who": "x"})
    stale = first.claim(("default",), 1).jobs[0]
    time.sleep(0.5)  # the first holder's lease expires
    first.dispatch.reap("default")
    fresh = second.claim(("default",), 1).jobs
    assert [j.id for j in fresh] == [job_id]
    assert fresh[0].attempts == 2

    assert first.settle([first.execute(stale)], {stale.id: stale}) == []  # fenced off
    assert service.get(job_id).status is JobStatus.RUNNING
    assert len(second.settle([second.execute(fresh[0])], {job_id: fresh[0]})) == 1
    job = service.get(job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.attempts == 2
    assert [e["attempt"] for e in job.errors] == [1]  # the lost attempt is on record


def test_delayed_submit_waits(service: JobService, processor: Processor) -> None:
    job_id = submit(service, {"type": "noop"}, delay_seconds=0.6)
    assert processor.claim(("default",), 10).jobs == []
    assert service.queue_depths()[0].delayed == 1
    time.sleep(0.7)
    assert [j.id for j in processor.claim(("default",), 10).jobs] == [job_id]


def test_idempotent_submit(service: JobService) -> None:
    first = service.submit(
        parse_new_job(
            {"payload": {"type": "noop", "n": 1}, "idempotency_key": "k1"}, service.settings
        )
    )
    again = service.submit(
        parse_new_job(
            {"payload": {"type": "noop", "n": 1}, "idempotency_key": "k1"}, service.settings
        )
    )
    assert first.created and not again.created
    assert again.id == first.id
    with pytest.raises(ConflictError):
        service.submit(
            parse_new_job(
                {"payload": {"type": "noop", "n": 2}, "idempotency_key": "k1"}, service.settings
            )
        )
    assert len(service.list_jobs(ListFilter()).jobs) == 1
    assert service.queue_depths()[0].ready == 1


def test_batch_submit_is_all_or_nothing(service: JobService) -> None:
    service.submit(
        parse_new_job({"payload": {"type": "noop"}, "idempotency_key": "taken"}, service.settings)
    )
    batch = [
        parse_new_job({"payload": {"type": "noop", "i": i}}, service.settings) for i in range(5)
    ] + [
        parse_new_job(
            {"payload": {"type": "noop", "other": True}, "idempotency_key": "taken"},
            service.settings,
        )
    ]
    with pytest.raises(ConflictError):
        service.submit_batch(batch)
    assert len(service.list_jobs(ListFilter()).jobs) == 1

    jobs = service.submit_batch(batch[:5])
    assert [j.payload["i"] for j in jobs] == [0, 1, 2, 3, 4]
    assert all(j.created and j.status is JobStatus.QUEUED for j in jobs)
    assert service.queue_depths()[0].ready == 6


def test_get_unknown_job(service: JobService) -> None:
    with pytest.raises(NotFoundError):
        service.get(uuid.uuid4())


def test_list_pages_with_cursor(service: JobService) -> None:
    ids = [submit(service, {"type": "noop", "i": i}) for i in range(7)]
    seen: list[uuid.UUID] = []
    page = service.list_jobs(ListFilter(limit=3))
    while True:
        seen.extend(j.id for j in page.jobs)
        if page.next_cursor is None:
            break
        page = service.list_jobs(ListFilter(limit=3, after=decode_cursor(page.next_cursor)))
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7
