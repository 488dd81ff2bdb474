"""Settings, read from the environment only. Each one has a documented default.

A wrong value fails at start-up with a ConfigError that names the variable.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ConfigError", "Settings", "load_settings", "require_urls"]


class ConfigError(Exception):
    """An environment variable holds a value the engine cannot use."""


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a number >= 0")
    return value


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return value

    return parse


def _name(raw: str) -> str:
    if not raw or not all(c.isalnum() or c in "-_." for c in raw):
        raise ValueError("must be letters, digits, '-', '_' or '.'")
    return raw


def _module_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _optional_positive_int(raw: str) -> int | None:
    if not raw:
        return None
    value = int(raw)
    if value < 1:
        raise ValueError("must be an integer >= 1, or unset")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _optional_url(raw: str) -> str | None:
    return raw or None


def _setting(env: str, default: str, parse: Callable[[str], Any], doc: str) -> Any:
    return field(metadata={"env": env, "default": default, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    database_url: str | None = _setting(
        "DATABASE_URL",
        "",
        _optional_url,
        "PostgreSQL URL, e.g. postgresql://user:pass@host:5432/db "
        "(?host=/dir for a Unix socket). Unset: `taskengine dev` starts an embedded server.",
    )
    redis_url: str | None = _setting(
        "REDIS_URL",
        "",
        _optional_url,
        "Redis URL, e.g. redis://host:6379/0 or unix:///path/redis.sock. "
        "Unset: `taskengine dev` starts an embedded server.",
    )
    max_attempts: int = _setting(
        "TASKENGINE_MAX_ATTEMPTS",
        "5",
        _int_between(1, 1000),
        "Attempts a job gets when its submit does not say (also the budget a redrive grants).",
    )
    backoff_base_seconds: float = _setting(
        "TASKENGINE_BACKOFF_BASE_SECONDS",
        "1",
        _positive_float,
        "Backoff ceiling after the first failed attempt; it doubles per attempt.",
    )
    backoff_max_seconds: float = _setting(
        "TASKENGINE_BACKOFF_MAX_SECONDS",
        "300",
        _positive_float,
        "Cap on the backoff ceiling.",
    )
    lease_seconds: float = _setting(
        "TASKENGINE_LEASE_SECONDS",
        "30",
        _positive_float,
        "How long a claim lasts without a heartbeat; a crashed worker's jobs return after it.",
    )
    shutdown_grace_seconds: float = _setting(
        "TASKENGINE_SHUTDOWN_GRACE_SECONDS",
        "25",
        _non_negative_float,
        "On SIGTERM, how long in-flight jobs may take before they are released.",
    )
    job_modules: tuple[str, ...] = _setting(
        "TASKENGINE_JOB_MODULES",
        "",
        _module_list,
        "Comma-separated modules to import for their job handlers (besides the built-ins).",
    )
    redis_prefix: str = _setting(
        "TASKENGINE_REDIS_PREFIX",
        "te",
        _name,
        "Prefix of every Redis key, so several deployments can share one Redis.",
    )
    default_queue: str = _setting(
        "TASKENGINE_DEFAULT_QUEUE", "default", _name, "Queue of a job whose submit names none."
    )
    claim_batch: int = _setting(
        "TASKENGINE_CLAIM_BATCH",
        "100",
        _int_between(1, 10000),
        "Most jobs one claim takes (never more than the worker's free threads).",
    )
    max_batch: int = _setting(
        "TASKENGINE_MAX_BATCH",
        "1000",
        _int_between(1, 100000),
        "Most jobs one batch submit may carry.",
    )
    max_delay_seconds: float = _setting(
        "TASKENGINE_MAX_DELAY_SECONDS",
        "31536000",
        _positive_float,
        "Largest delay_seconds a submit may ask for (default: one year).",
    )
    reconcile_interval_seconds: float = _setting(
        "TASKENGINE_RECONCILE_INTERVAL_SECONDS",
        "10",
        _positive_float,
        "How often a worker reaps expired claims and re-dispatches what Redis is missing.",
    )
    metrics_port: int = _setting(
        "TASKENGINE_METRICS_PORT",
        "9091",
        _int_between(0, 65535),
        "Worker HTTP port for /metrics, /healthz and /readyz (0: do not serve).",
    )
    api_keys: tuple[str, ...] = _setting(
        "TASKENGINE_API_KEYS",
        "",
        _module_list,
        "Comma-separated API keys (Authorization: Bearer KEY or X-API-Key). "
        "Unset: the API is open, and says so at start-up.",
    )
    max_body_bytes: int = _setting(
        "TASKENGINE_MAX_BODY_BYTES",
        "262144",
        _int_between(1, 1 << 30),
        "Largest request body the API accepts (413 above it).",
    )
    max_queue_depth: int | None = _setting(
        "TASKENGINE_MAX_QUEUE_DEPTH",
        "",
        _optional_positive_int,
        "Backpressure: above this many waiting jobs, submit answers 429. Unset: no limit.",
    )
    url: str | None = _setting(
        "TASKENGINE_URL",
        "",
        _optional_url,
        "The CLI's API URL (e.g. http://localhost:8080): set, the CLI goes through the HTTP "
        "API instead of PostgreSQL and Redis.",
    )
    api_key: str | None = _setting(
        "TASKENGINE_API_KEY",
        "",
        _optional_url,
        "The key the CLI sends to the API, if it needs one.",
    )
    api_port: int = _setting(
        "TASKENGINE_API_PORT", "8080", _int_between(1, 65535), "Port of `taskengine api`."
    )
    process_function: str | None = _setting(
        "TASKENGINE_PROCESS_FUNCTION",
        "",
        _optional_url,
        "Lambda: the `process` function that `submit` invokes asynchronously with the ids "
        "it created. Unset: no nudge; the schedule drains the queues.",
    )
    lambda_endpoint_url: str | None = _setting(
        "TASKENGINE_LAMBDA_ENDPOINT_URL",
        "",
        _optional_url,
        "Lambda: the Invoke API `submit` nudges `process` through (the local runtime or "
        "LocalStack). Unset: AWS's own endpoint.",
    )
    process_concurrency: int = _setting(
        "TASKENGINE_PROCESS_CONCURRENCY",
        "16",
        _int_between(1, 1000),
        "Lambda: threads one `process` invocation runs jobs on (also its claim size).",
    )
    drain_margin_seconds: float = _setting(
        "TASKENGINE_DRAIN_MARGIN_SECONDS",
        "10",
        _non_negative_float,
        "Lambda: a drain claims no new batch once its invocation has less time left than "
        "this; an unfinished batch's leases expire and it runs again.",
    )
    log_level: str = _setting(
        "TASKENGINE_LOG_LEVEL", "INFO", _log_level, "Log level of the JSON logs."
    )
    data_dir: str = _setting(
        "TASKENGINE_DATA_DIR",
        ".taskengine",
        str,
        "Where `taskengine dev` keeps the embedded PostgreSQL and Redis data.",
    )

    def __post_init__(self) -> None:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ConfigError(
                "TASKENGINE_BACKOFF_MAX_SECONDS must be >= TASKENGINE_BACKOFF_BASE_SECONDS"
            )

    @property
    def heartbeat_seconds(self) -> float:
        """Leases are renewed three times per lease, so one lost renewal costs nothing."""
        return self.lease_seconds / 3


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every setting from ``environ`` (default: os.environ)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        meta = spec.metadata
        raw = env.get(meta["env"], meta["default"]).strip()
        try:
            values[spec.name] = meta["parse"](raw)
        except ValueError as exc:
            raise ConfigError(f"{meta['env']}={raw!r}: {exc}") from None
    values.update(overrides)
    return Settings(**values)


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting: the README table and `--help`."""
    return [(f.metadata["env"], f.metadata["default"], f.metadata["doc"]) for f in fields(Settings)]


def require_urls(settings: Settings) -> tuple[str, str]:
    missing = [
        name
        for name, value in (
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} not set: point them at PostgreSQL and Redis, "
            "or run `taskengine dev` for embedded ones"
        )
    assert settings.database_url and settings.redis_url
    return settings.database_url, settings.redis_url
