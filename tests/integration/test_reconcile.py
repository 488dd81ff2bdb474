"""The reaper and the reconciler keep Redis true to PostgreSQL."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from core.config import Settings
from core.dispatch import Dispatch
from core.pgstore import PgStore
from core.processor import Processor
from core.reconcile import Reconciler
from core.service import JobService
from core.status import JobStatus
from core.store import RedriveFilter
from core.validation import parse_new_job
from tests.support.build import close, processor_for, reconciler_for, service_for
from tests.support.drive import process_until_terminal


class PushFails(Dispatch):
    """A dispatch whose writes after the commit never happen (the dual-write gap)."""

    def place_many(self, by_queue: Any) -> None:
        raise redis.ConnectionError("injected: connection lost after the commit")


@pytest.fixture
def parts(settings: Settings) -> Iterator[tuple[JobService, Processor, Reconciler]]:
    built = service_for(settings), processor_for(settings), reconciler_for(settings)
    yield built
    close(*built)


def _broken_service(settings: Settings) -> JobService:
    assert settings.database_url and settings.redis_url
    return JobService(
        PgStore(settings.database_url),
        PushFails(settings.redis_url, settings.redis_prefix),
        settings,
    )


def test_submit_whose_push_never_happened_is_dispatched_by_the_reconciler(
    settings: Settings, parts: tuple[JobService, Processor, Reconciler]
) -> None:
    service, processor, reconciler = parts
    reconciler.run()  # first pass: Redis has no epoch yet, so this is the full resync
    broken = _broken_service(settings)
    job = broken.submit(parse_new_job({"payload": {"type": "noop"}}, settings))
    assert service.get(job.id).status is JobStatus.QUEUED  # durable...
    assert processor.claim(("default",), 10).jobs == []  # ...but not dispatched

    report = reconciler.run()
    assert (report.mode, report.dispatched) == ("steady", 1)
    assert reconciler.run().dispatched == 0  # what Redis already has is left alone
    process_until_terminal(processor, [job.id])
    assert service.get(job.id).status is JobStatus.COMPLETED


def test_redrive_whose_push_never_happened_is_dispatched(
    settings: Settings, parts: tuple[JobService, Processor, Reconciler]
) -> None:
    service, processor, reconciler = parts
    reconciler.run()
    job = service.submit(
        parse_new_job(
            {"payload": {"type": "demo", "fail_until_attempt": 1}, "max_attempts": 1}, settings
        )
    )
    process_until_terminal(processor, [job.id])
    assert _broken_service(settings).redrive(RedriveFilter(ids=[job.id])).ids == [job.id]
    assert reconciler.run().dispatched == 1
    process_until_terminal(processor, [job.id])
    assert service.get(job.id).status is JobStatus.COMPLETED


def test_expired_claim_is_reaped_and_run_again(
    settings: Settings, parts: tuple[JobService, Processor, Reconciler]
) -> None:
    service, _, reconciler = parts
    assert settings.database_url and settings.redis_url
    crashed = processor_for(settings, lease_seconds=0.2)
    job = service.submit(parse_new_job({"payload": {"type": "noop"}}, settings))
    assert len(crashed.claim(("default",), 10).jobs) == 1  # ...and it never settles
    time.sleep(0.3)
    assert reconciler.reap() == 1
    rerun = processor_for(settings)
    process_until_terminal(rerun, [job.id])
    done = service.get(job.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 2)


def test_full_resync_rebuilds_every_queue(
    settings: Settings, parts: tuple[JobService, Processor, Reconciler]
) -> None:
    service, processor, reconciler = parts
    now = [service.submit(parse_new_job({"payload": {"type": "noop"}}, settings)) for _ in range(3)]
    later = service.submit(
        parse_new_job({"payload": {"type": "noop"}, "delay_seconds": 60, "queue": "q2"}, settings)
    )
    dead = service.submit(parse_new_job({"payload": {"type": "nope"}, "queue": "q3"}, settings))
    process_until_terminal(processor, [dead.id], queues=("q3",))
    running = processor.claim(("default",), 1).jobs
    client = service.dispatch.client
    for key in client.scan_iter(f"{settings.redis_prefix}:*"):
        client.delete(key)  # Redis lost everything this deployment had

    report = reconciler.run()
    assert report.mode == "full"
    assert report.examined == 5
    depths = {d.queue: d for d in service.queue_depths()}
    assert (depths["default"].ready, depths["default"].running) == (2, 1)
    assert depths["q2"].delayed == 1
    assert depths["q3"].failed == 1
    assert reconciler.run().mode == "steady"
    process_until_terminal(processor, [j.id for j in now if j.id != running[0].id])
    assert service.get(later.id).status is JobStatus.QUEUED
