"""Group commit for single submits: concurrent requests in one process share one
INSERT (one WAL flush) and one Redis push.

A request thread hands its job over and waits; one flusher thread takes every job
waiting at that moment and submits them as a batch. Nothing is delayed on purpose:
an idle server flushes each job alone, a busy one in batches as large as the
number of request threads. Jobs with an idempotency key go straight through, so
that a replay or a conflict stays an answer to its own request.
"""

import queue
import threading
from concurrent.futures import Future

from core.model import Job, NewJob
from core.service import JobService

__all__ = ["SubmitCoalescer"]


class SubmitCoalescer:
    def __init__(self, service: JobService) -> None:
        self.service = service
        self._waiting: queue.SimpleQueue[tuple[NewJob, Future[Job]]] = queue.SimpleQueue()
        threading.Thread(target=self._flush_forever, name="submit-coalescer", daemon=True).start()

    def submit(self, job: NewJob) -> Job:
        if job.idempotency_key:
            return self.service.submit(job)
        done: Future[Job] = Future()
        self._waiting.put((job, done))
        return done.result()

    def _flush_forever(self) -> None:
        limit = self.service.settings.max_batch
        while True:
            batch = [self._waiting.get()]
            while len(batch) < limit:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            # Nothing may escape this loop: a dead flusher would hang every submit.
            try:
                stored = self.service.submit_batch([job for job, _ in batch])
                answers = list(zip((done for _, done in batch), stored, strict=True))
            except BaseException as exc:  # every waiting request gets the failure
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for done, job in answers:
                done.set_result(job)
