"""Which transition an attempt ends in: no I/O, the in-memory store and no Redis."""

import sys
from typing import Any

import pytest

from core.config import load_settings
from core.errors import PermanentError
from core.memstore import MemoryStore
from core.model import Job
from core.processor import Processor
from core.registry import Registry
from core.store import OutcomeKind
from core.validation import parse_new_job

SETTINGS = load_settings({"TASKENGINE_BACKOFF_BASE_SECONDS": "2"})


def boom(payload: dict[str, Any]) -> None:
    raise RuntimeError("boom")


def permanent(payload: dict[str, Any]) -> None:
    raise PermanentError("never")


def not_json(payload: dict[str, Any]) -> object:
    return object()


@pytest.fixture
def processor() -> Processor:
    registry = Registry()
    registry.register("ok", lambda payload, ctx: {"attempt": ctx.attempt})
    registry.register("boom", boom)
    registry.register("permanent", permanent)
    registry.register("not-json", not_json)
    # execute() decides; it never touches Redis, so no dispatch is needed here.
    return Processor(MemoryStore(), None, registry, SETTINGS, rand=lambda: 0.5)  # type: ignore[arg-type]


def attempt(processor: Processor, job_type: str, max_attempts: int = 3) -> Job:
    store = processor.store
    item = {"payload": {"type": job_type}, "max_attempts": max_attempts}
    (job,) = store.insert([parse_new_job(item, SETTINGS)])
    (claimed,) = store.claim([job.id], 30)
    return claimed


def test_success_completes_with_the_result(processor: Processor) -> None:
    job = attempt(processor, "ok")
    out = processor.execute(job)
    assert (out.kind, out.result, out.attempt) == (OutcomeKind.COMPLETE, {"attempt": 1}, 1)


def test_an_exception_with_attempts_left_retries_after_backoff(processor: Processor) -> None:
    job = attempt(processor, "boom")
    out = processor.execute(job)
    assert (out.kind, out.error) == (OutcomeKind.RETRY, "RuntimeError: boom")
    assert out.delay_seconds == 1.0  # base 2 s ceiling after attempt 1, injected draw 0.5


def test_the_last_attempt_dead_letters(processor: Processor) -> None:
    job = attempt(processor, "boom", max_attempts=1)
    out = processor.execute(job)
    assert (out.kind, out.error) == (OutcomeKind.DEAD_LETTER, "RuntimeError: boom")


def test_a_permanent_error_dead_letters_at_once(processor: Processor) -> None:
    out = processor.execute(attempt(processor, "permanent", max_attempts=5))
    assert (out.kind, out.error) == (OutcomeKind.DEAD_LETTER, "PermanentError: never")


def test_an_unknown_type_dead_letters(processor: Processor) -> None:
    out = processor.execute(attempt(processor, "mystery", max_attempts=5))
    assert out.kind is OutcomeKind.DEAD_LETTER
    assert out.error and "unknown job type 'mystery'" in out.error


def test_a_result_that_is_not_json_dead_letters(processor: Processor) -> None:
    out = processor.execute(attempt(processor, "not-json", max_attempts=5))
    assert out.kind is OutcomeKind.DEAD_LETTER
    assert out.error and out.error.startswith("result is not JSON")


def test_a_handler_calling_sys_exit_is_an_ordinary_failure(processor: Processor) -> None:
    processor.registry.register("exits", lambda payload: sys.exit(3))
    out = processor.execute(attempt(processor, "exits"))
    assert (out.kind, out.error) == (OutcomeKind.RETRY, "SystemExit: 3")
