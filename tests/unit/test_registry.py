"""Handlers are plain callables registered by type name."""

import uuid

import pytest

from core.registry import JobContext, Registry, job


def _ctx() -> JobContext:
    return JobContext(uuid.uuid4(), "default", "t", attempt=2, attempts_left=3)


def test_one_and_two_argument_handlers() -> None:
    registry = Registry()

    @job("payload-only", into=registry)
    def payload_only(payload: dict) -> int:
        return int(payload["n"]) + 1

    @job("with-context", into=registry)
    def with_context(payload: dict, ctx: JobContext) -> int:
        return ctx.attempt

    assert registry.get("payload-only")({"n": 1}, _ctx()) == 2  # type: ignore[misc]
    assert registry.get("with-context")({}, _ctx()) == 2  # type: ignore[misc]
    assert registry.types() == ["payload-only", "with-context"]
    assert registry.get("missing") is None


def test_a_type_is_registered_once() -> None:
    registry = Registry()
    registry.register("x", lambda payload: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x", lambda payload: None)


def test_unknown_module_names_the_setting() -> None:
    with pytest.raises(ImportError, match="TASKENGINE_JOB_MODULES"):
        Registry().load_modules(["no_such_module_for_tests"])
