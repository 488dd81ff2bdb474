"""Prometheus metrics of the engine (prometheus-client).

Correct under several processes: a worker started with ``--processes N`` sets
PROMETHEUS_MULTIPROC_DIR before its children import this module, and its
metrics server merges their files (see core.metrics_server). Queue depth is
read from Redis at scrape time by QueueDepthCollector, once per server.
"""

from collections.abc import Callable, Iterator, Sequence

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.dispatch import QueueDepth, now_ms

__all__ = [
    "ENQUEUE_TO_START",
    "JOBS_DEAD_LETTERED",
    "JOBS_PROCESSED",
    "JOBS_REDRIVEN",
    "JOBS_RETRIED",
    "JOBS_SUBMITTED",
    "JOB_FAILURES",
    "PROCESSING_DURATION",
    "SUBMIT_TO_FINISH",
    "WORKER_ACTIVE_JOBS",
    "QueueDepthCollector",
]

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    1800.0,
)

JOBS_SUBMITTED = Counter("jobs_submitted_total", "Jobs created by a submit", ["queue"])
JOBS_PROCESSED = Counter(
    "jobs_processed_total",
    "Attempts finished, by outcome: completed, retried or dead_lettered",
    ["queue", "type", "outcome"],
)
JOB_FAILURES = Counter(
    "job_failures_total", "Attempts that raised (retried or dead-lettered)", ["queue", "type"]
)
JOBS_RETRIED = Counter(
    "jobs_retried_total", "Failed attempts scheduled for retry", ["queue", "type"]
)
JOBS_DEAD_LETTERED = Counter(
    "jobs_dead_lettered_total", "Jobs moved to the dead-letter queue", ["queue", "type"]
)
JOBS_REDRIVEN = Counter("jobs_redriven_total", "Dead-lettered jobs requeued", ["queue"])
PROCESSING_DURATION = Histogram(
    "job_processing_duration_seconds",
    "Time a handler ran, per attempt",
    ["queue", "type"],
    buckets=_LATENCY_BUCKETS,
)
ENQUEUE_TO_START = Histogram(
    "job_enqueue_to_start_seconds",
    "From the moment a job became due (run_at) to the start of its attempt",
    ["queue"],
    buckets=_LATENCY_BUCKETS,
)
SUBMIT_TO_FINISH = Histogram(
    "job_submit_to_finish_seconds",
    "From submit to the job's terminal state (completed or failed)",
    ["queue", "type"],
    buckets=_LATENCY_BUCKETS,
)
WORKER_ACTIVE_JOBS = Gauge(
    "worker_active_jobs", "Jobs a worker is running now", multiprocess_mode="livesum"
)


class QueueDepthCollector(Collector):
    """``queue_depth{queue,state}`` and the oldest ready job's age, read at scrape time."""

    def __init__(self, read: Callable[[], Sequence[QueueDepth]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "queue_depth", "Jobs per queue and state (from Redis)", labels=["queue", "state"]
        )
        age = GaugeMetricFamily(
            "queue_oldest_ready_age_seconds", "Age of the oldest ready job", labels=["queue"]
        )
        now = now_ms()
        for q in self._read():
            for state in ("ready", "delayed", "running", "failed"):
                depth.add_metric([q.queue, state], getattr(q, state))
            oldest = 0.0 if q.oldest_ready_ms is None else max(0, now - q.oldest_ready_ms) / 1000
            age.add_metric([q.queue], oldest)
        yield depth
        yield age


HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
