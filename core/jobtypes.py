"""Built-in job types for demos and benchmarks: noop, echo and demo."""

import time
from typing import Any

from core.errors import PermanentError
from core.registry import JobContext, job

__all__ = ["DemoFailure", "demo", "echo", "noop"]


class DemoFailure(Exception):
    """The retryable failure a demo job raises when asked to."""


@job("noop")
def noop(payload: dict[str, Any]) -> None:
    return None


@job("echo")
def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


@job("demo")
def demo(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Sleeps ``duration_ms``, then fails if ``fail`` is true or while the attempt is at
    most ``fail_until_attempt``, with ``error`` as its message. ``permanent: true``
    makes the failure permanent (no retries)."""
    duration_ms = _number(payload, "duration_ms", 0)
    until = _number(payload, "fail_until_attempt", 0)
    if duration_ms:
        time.sleep(duration_ms / 1000)
    if payload.get("fail") or ctx.attempt <= until:
        message = str(payload.get("error") or f"demo failure on attempt {ctx.attempt}")
        if payload.get("permanent"):
            raise PermanentError(message)
        raise DemoFailure(message)
    return {"attempt": ctx.attempt, "duration_ms": duration_ms}


def _number(payload: dict[str, Any], name: str, default: float) -> float:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PermanentError(f"demo: {name} must be a number >= 0, got {value!r}")
    return value
