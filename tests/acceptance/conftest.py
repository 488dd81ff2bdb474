"""A real `taskengine api` process for acceptance tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import ApiServer


@pytest.fixture
def api(worker_env: dict[str, str], tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(worker_env, tmp_path / "logs", "--workers", "1", "--threads", "8")
    yield server
    server.close()
