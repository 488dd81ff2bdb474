"""Settings come from the environment; a wrong value names its variable."""

import pytest

from core.config import ConfigError, describe_settings, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url is None and settings.redis_url is None
    assert settings.max_attempts == 5
    assert settings.backoff_base_seconds == 1
    assert settings.backoff_max_seconds == 300
    assert settings.lease_seconds == 30
    assert settings.shutdown_grace_seconds == 25
    assert settings.job_modules == ()
    assert settings.metrics_port == 9091
    assert settings.heartbeat_seconds == 10


def test_values_are_read_and_trimmed() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://x/y",
            "TASKENGINE_MAX_ATTEMPTS": " 7 ",
            "TASKENGINE_JOB_MODULES": "a.jobs, b.jobs,,",
            "TASKENGINE_LOG_LEVEL": "debug",
        }
    )
    assert settings.database_url == "postgresql://x/y"
    assert settings.max_attempts == 7
    assert settings.job_modules == ("a.jobs", "b.jobs")
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TASKENGINE_MAX_ATTEMPTS", "abc"),
        ("TASKENGINE_MAX_ATTEMPTS", "0"),
        ("TASKENGINE_MAX_ATTEMPTS", "1.5"),
        ("TASKENGINE_BACKOFF_BASE_SECONDS", "-1"),
        ("TASKENGINE_BACKOFF_BASE_SECONDS", "nan"),
        ("TASKENGINE_BACKOFF_MAX_SECONDS", "inf"),
        ("TASKENGINE_LEASE_SECONDS", "0"),
        ("TASKENGINE_SHUTDOWN_GRACE_SECONDS", "-5"),
        ("TASKENGINE_REDIS_PREFIX", "has space"),
        ("TASKENGINE_DEFAULT_QUEUE", ""),
        ("TASKENGINE_CLAIM_BATCH", "0"),
        ("TASKENGINE_MAX_BATCH", "many"),
        ("TASKENGINE_METRICS_PORT", "70000"),
        ("TASKENGINE_LOG_LEVEL", "LOUD"),
        ("TASKENGINE_RECONCILE_INTERVAL_SECONDS", "soon"),
    ],
)
def test_a_wrong_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_backoff_cap_below_base_is_rejected() -> None:
    with pytest.raises(ConfigError, match="TASKENGINE_BACKOFF_MAX_SECONDS"):
        load_settings(
            {"TASKENGINE_BACKOFF_BASE_SECONDS": "10", "TASKENGINE_BACKOFF_MAX_SECONDS": "5"}
        )


def test_every_setting_is_described() -> None:
    described = {env for env, _, doc in describe_settings() if doc}
    assert {"DATABASE_URL", "REDIS_URL", "TASKENGINE_MAX_ATTEMPTS"} <= described
    assert len(described) == len(describe_settings())
