"""Job types for tests, loaded by workers through TASKENGINE_JOB_MODULES=tests.support.jobs.

``count`` records each execution in a Redis hash of the test's own prefix, so a
test can tell how often every job's handler actually ran.
"""

import os
import time
from functools import cache
from typing import Any

import redis

from core.registry import JobContext, job


@cache
def _client() -> "redis.Redis":
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def executions_key(prefix: str) -> str:
    return f"{prefix}:test:executions"


@job("count")
def count(payload: dict[str, Any], ctx: JobContext) -> dict[str, int]:
    sleep_ms = payload.get("sleep_ms", 0)
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    runs = _client().hincrby(executions_key(os.environ["TASKENGINE_REDIS_PREFIX"]), str(ctx.id), 1)
    return {"runs": int(runs)}


@job("slow_first")
def slow_first(payload: dict[str, Any], ctx: JobContext) -> dict[str, int]:
    """Sleeps ``sleep_ms`` on its first attempt only: a job that outlives the
    invocation (or worker) that first runs it, and then completes."""
    if ctx.attempt == 1:
        time.sleep(payload.get("sleep_ms", 0) / 1000)
    return {"attempt": ctx.attempt}
