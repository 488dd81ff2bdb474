"""The container end-to-end check: a real Docker engine, images built on this
machine, compose's CLI for what users type and the docker SDK for the rest.

`scripts/docker-engine` installs and starts Debian's docker.io where no engine
answers (root on Debian); where none can start at all, these tests are skipped
and the summary says so in a banner.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import pytest

from core.client import Client
from infra.stack import DockerUnavailable, Stack, build_local_images, compose_commands
from infra.stack import ensure_engine as start_engine
from tests.support.procs import free_port

_NO_ENGINE: list[str] = []


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = start_engine()
    except DockerUnavailable as error:
        _NO_ENGINE.append(str(error))
        pytest.skip(f"NO DOCKER ENGINE CAN START HERE: {error}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def stack_images(docker_client: docker.DockerClient) -> dict[str, str]:
    return build_local_images(docker_client)


@pytest.fixture(scope="session")
def compose_clis() -> Iterator[dict[str, tuple[list[str], dict[str, str]]]]:
    with compose_commands() as found:
        yield found


@contextmanager
def running_stack(
    client: docker.DockerClient,
    images: dict[str, str],
    compose: tuple[list[str], dict[str, str]],
    workers: int,
    **settings: str,
) -> Iterator[Stack]:
    """`up -d --build --scale worker=N` of a fresh project, healthy; `down -v` after,
    with every service's log printed when the stack did not come up."""
    argv, extra = compose
    env = {
        **extra,
        **images,
        "API_PORT": str(free_port()),
        "PROMETHEUS_PORT": str(free_port()),
        "GRAFANA_PORT": str(free_port()),
        "POSTGRES_PASSWORD": "taskengine-e2e",
        **settings,
    }
    stack = Stack(client, argv, f"te-e2e-{uuid.uuid4().hex[:8]}", env)
    try:
        stack.up(workers=workers, build=True)
        stack.wait_healthy({"postgres": 1, "redis": 1, "api": 1, "worker": workers})
        yield stack
    except BaseException:
        for service in ("migrate", "api", "worker", "redis", "prometheus"):
            print(stack.logs(service))
        raise
    finally:
        stack.down()


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Client]:
    stack: Stack = request.getfixturevalue("stack")
    client = Client(stack.api_url, timeout=60)
    yield client
    client.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _NO_ENGINE:
        terminalreporter.write_sep(
            "!", "NO DOCKER ENGINE: the container end-to-end check was SKIPPED"
        )
        terminalreporter.write_line(_NO_ENGINE[0], red=True)
