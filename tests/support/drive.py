"""Driving the lifecycle in-process, one claim-execute-settle round at a time."""

import time
from collections.abc import Iterable
from uuid import UUID

from core.processor import Processor
from core.status import JobStatus


def process_until_terminal(
    processor: Processor,
    ids: Iterable[UUID],
    queues: tuple[str, ...] = ("default",),
    timeout: float = 15.0,
) -> None:
    """Claim, run and settle until every job in ``ids`` is completed or failed."""
    pending = set(ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} jobs still not terminal")
        batch = processor.claim(queues, 100)
        outcomes = [processor.execute(job) for job in batch.jobs]
        outcomes += [o for o, _ in batch.exhausted]
        jobs = {job.id: job for job in batch.jobs} | {j.id: j for _, j in batch.exhausted}
        processor.settle(outcomes, jobs)
        if not outcomes:
            time.sleep(0.02)
        for job_id in list(pending):
            job = processor.store.get(job_id)
            if job is not None and job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
                pending.discard(job_id)
