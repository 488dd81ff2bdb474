"""The same compose file under Debian's docker-compose 1.29 (the Python one), which
many machines still have: up with 2 workers, jobs through the API, both replicas
scraped."""

import docker
import pytest

from core.client import Client
from tests.containers.checks import (
    by_status,
    scraped_up,
    submit_all,
    wait_settled,
    worker_addresses,
)
from tests.containers.conftest import running_stack
from tests.support.procs import wait_until

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]


def test_debians_docker_compose_1_29_runs_the_same_stack(
    docker_client: docker.DockerClient,
    stack_images: dict[str, str],
    compose_clis: dict[str, tuple[list[str], dict[str, str]]],
) -> None:
    if "v1" not in compose_clis:
        pytest.skip(
            "Debian's docker-compose 1.29 is not installed "
            "(scripts/docker-engine installs it, as root on Debian)"
        )
    with running_stack(docker_client, stack_images, compose_clis["v1"], workers=2) as stack:
        api = Client(stack.api_url, timeout=60)
        items = [{"payload": {"type": "noop"}}] * 150 + [
            {"payload": {"type": "demo", "fail": True}, "max_attempts": 1}
        ] * 10
        jobs = wait_settled(api, submit_all(api, items), timeout=120)
        assert by_status(jobs) == {"completed": 150, "failed": 10}
        assert len(api.dlq()["jobs"]) == 10
        expected = worker_addresses(stack)
        assert len(expected) == 2
        wait_until(lambda: scraped_up(stack, "worker") == expected, 30, "2 worker targets up")
        api.close()
