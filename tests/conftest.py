"""Shared fixtures: real PostgreSQL and Redis for every test that needs them.

TASKENGINE_TEST_DATABASE_URL and TASKENGINE_TEST_REDIS_URL name servers to use
(the database in the URL only serves to create one database per test); with
neither set, the suite starts the same embedded servers as `taskengine dev`.
Each test gets a database of its own and a Redis key prefix of its own, and
both are removed afterwards.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from core.config import Settings
from core.db import connect
from core.embedded import EmbeddedServers
from core.migrate import apply_migrations
from tests.support.env import RedisServer, make_settings


@dataclass(frozen=True)
class Services:
    admin_database_url: str
    redis_url: str
    template: str


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    database_url = os.environ.get("TASKENGINE_TEST_DATABASE_URL")
    redis_url = os.environ.get("TASKENGINE_TEST_REDIS_URL")
    embedded = None
    if not database_url or not redis_url:
        embedded = EmbeddedServers(tmp_path_factory.mktemp("embedded"), persistent=False)
        database_url, redis_url = embedded.start()
    template = f"te_tmpl_{uuid.uuid4().hex[:10]}"
    admin = connect(database_url, "taskengine-tests")
    admin.run(f'CREATE DATABASE "{template}"')
    conn = connect(_with_database(database_url, template))
    apply_migrations(conn)
    conn.close()
    try:
        yield Services(database_url, redis_url, template)
    finally:
        admin.run(f'DROP DATABASE IF EXISTS "{template}"')
        admin.close()
        if embedded is not None:
            embedded.stop()


@pytest.fixture
def database_url(services: Services) -> Iterator[str]:
    """A freshly migrated database of this test's own."""
    name = f"te_test_{uuid.uuid4().hex[:12]}"
    admin = connect(services.admin_database_url, "taskengine-tests")
    admin.run(f'CREATE DATABASE "{name}" TEMPLATE "{services.template}"')
    try:
        yield _with_database(services.admin_database_url, name)
    finally:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def redis_url(services: Services) -> str:
    return services.redis_url


@pytest.fixture
def redis_prefix(services: Services) -> Iterator[str]:
    prefix = f"tt{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(services.redis_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_prefix: str) -> Settings:
    return make_settings(database_url, redis_url, redis_prefix)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A Redis server of this test's own, which it may flush, stop and restart."""
    folder = Path(tempfile.mkdtemp(prefix="te-redis-"))  # short: Unix socket paths are limited
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def worker_env(database_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """Environment for a real `taskengine` process bound to this test's database and prefix."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TASKENGINE_REDIS_PREFIX": redis_prefix,
            "TASKENGINE_BACKOFF_BASE_SECONDS": "0.05",
            "TASKENGINE_BACKOFF_MAX_SECONDS": "0.2",
            "TASKENGINE_LEASE_SECONDS": "3",
            "TASKENGINE_RECONCILE_INTERVAL_SECONDS": "1",
            "TASKENGINE_SHUTDOWN_GRACE_SECONDS": "10",
            "TASKENGINE_METRICS_PORT": "0",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
    )
    return env
