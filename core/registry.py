"""Job-type registry: plain callables registered by type name.

A handler takes the payload, and optionally a JobContext::

    from core.registry import job

    @job("resize")
    def resize(payload, ctx):
        ...
        return {"width": 100}          # stored as the job's result

Raise core.errors.PermanentError for a failure no retry can fix; any other
exception is retried with backoff. Workers and the process function import the
modules named by TASKENGINE_JOB_MODULES, which register their handlers.
"""

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

__all__ = ["Handler", "JobContext", "Registry", "job", "registry"]


@dataclass
class JobContext:
    id: UUID
    queue: str
    type: str
    attempt: int
    attempts_left: int
    # Renews the lease now; the worker also renews it in the background.
    heartbeat: Callable[[], None] = field(default=lambda: None, repr=False)


Handler = Callable[..., Any]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[dict[str, Any], JobContext], Any]] = {}

    def register(self, job_type: str, handler: Handler) -> None:
        if job_type in self._handlers:
            raise ValueError(f"job type {job_type!r} is already registered")
        self._handlers[job_type] = _with_context(handler)

    def get(self, job_type: str) -> Callable[[dict[str, Any], JobContext], Any] | None:
        return self._handlers.get(job_type)

    def types(self) -> list[str]:
        return sorted(self._handlers)

    def load_modules(self, modules: Iterable[str]) -> None:
        """Import handler modules by name; a module that cannot load stops start-up."""
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError as exc:
                raise ImportError(f"TASKENGINE_JOB_MODULES: cannot import {name!r}: {exc}") from exc


def _with_context(handler: Handler) -> Callable[[dict[str, Any], JobContext], Any]:
    """Adapt a one-argument handler (payload only) to the two-argument call."""
    params = [
        p
        for p in inspect.signature(handler).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if len(params) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params):
        return handler
    return lambda payload, _ctx: handler(payload)


registry = Registry()


def job(job_type: str, into: Registry = registry) -> Callable[[Handler], Handler]:
    """Decorator: register the function as the handler of ``job_type``."""

    def decorate(handler: Handler) -> Handler:
        into.register(job_type, handler)
        return handler

    return decorate
