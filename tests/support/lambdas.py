"""Calling the Lambda handlers in-process: a LambdaContext, the sample events and an
execution environment bound to one test's database and Redis prefix."""

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from functions import environment

EVENTS = Path(__file__).resolve().parent.parent / "events"


@dataclass
class Context:
    """What the Lambda runtime passes as ``context`` (the fields the handlers and
    Powertools read)."""

    function_name: str = "task-engine-test"
    seconds: float = 60.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.seconds
        self.invoked_function_arn = (
            f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def event(name: str, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    loaded.update(changes)
    return loaded


def with_job_id(loaded: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A GET /jobs/{id} event for another job."""
    loaded["path"] = f"/jobs/{job_id}"
    loaded["pathParameters"] = {"id": job_id}
    loaded["requestContext"]["path"] = f"/Prod/jobs/{job_id}"
    return loaded


def bind_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Point the functions' execution environment at this test's services; a new
    environment (as after a cold start) is built on the next invocation."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for cached in (environment.settings, environment.api, environment.drainer):
        cached.cache_clear()
