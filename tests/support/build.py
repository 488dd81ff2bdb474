"""The engine's parts wired to a test's own database and Redis prefix."""

import dataclasses
from typing import Any

import core.jobtypes  # noqa: F401  (registers the built-in types)
from core.config import Settings
from core.dispatch import Dispatch
from core.pgstore import PgStore
from core.processor import Processor
from core.reconcile import Reconciler
from core.registry import registry
from core.service import JobService


def _parts(settings: Settings) -> tuple[PgStore, Dispatch]:
    assert settings.database_url and settings.redis_url
    return PgStore(settings.database_url), Dispatch(settings.redis_url, settings.redis_prefix)


def service_for(settings: Settings) -> JobService:
    return JobService(*_parts(settings), settings)


def processor_for(settings: Settings, **overrides: Any) -> Processor:
    """A processor with its own connections; ``overrides`` change its settings."""
    store, dispatch = _parts(settings)
    return Processor(store, dispatch, registry, dataclasses.replace(settings, **overrides))


def reconciler_for(settings: Settings) -> Reconciler:
    return Reconciler(*_parts(settings))


def close(*parts: JobService | Processor | Reconciler) -> None:
    for part in parts:
        part.store.close()
        part.dispatch.close()
