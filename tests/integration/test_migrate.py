"""Migrations: applied in order, recorded once, safe to run twice and concurrently."""

import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect
from core.migrate import Migration, apply_migrations, available_migrations, pending_migrations
from tests.conftest import Services


@pytest.fixture
def empty_database(services: Services) -> Iterator[str]:
    name = f"te_empty_{uuid.uuid4().hex[:12]}"
    admin = connect(services.admin_database_url)
    admin.run(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(services.admin_database_url)._replace(path=f"/{name}"))
    finally:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert versions[0] == 1


def test_migrate_twice_applies_once(empty_database: str) -> None:
    conn = connect(empty_database)
    first = apply_migrations(conn)
    assert [m.version for m in first] == [m.version for m in available_migrations()]
    assert apply_migrations(conn) == []
    assert pending_migrations(conn) == []
    conn.close()


def test_concurrent_migrate_runners_apply_each_migration_once(empty_database: str) -> None:
    results: list[list[Migration]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        conn = connect(empty_database)
        try:
            barrier.wait()
            results.append(apply_migrations(conn))
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied = [m.version for batch in results for m in batch]
    assert sorted(applied) == [m.version for m in available_migrations()]
    conn = connect(empty_database)
    rows = conn.run("SELECT count(*) FROM schema_migrations")
    conn.close()
    assert rows[0][0] == len(available_migrations())
