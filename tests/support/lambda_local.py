"""A real `taskengine lambda-local` process on free ports, for acceptance tests."""

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.http import ApiServer
from tests.support.procs import TASKENGINE, free_port, wait_until


class LambdaLocal(ApiServer):
    """The front door answers like an ApiServer; ``invoke_url`` is the Invoke API."""

    def __init__(self, env: dict[str, str], log_dir: Path, *args: str) -> None:
        self.port, self.invoke_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.invoke_url = f"http://127.0.0.1:{self.invoke_port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"lambda-local-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        command = [TASKENGINE, "lambda-local", "--api-port", str(self.port)]
        command += ["--invoke-port", str(self.invoke_port), *args]
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        wait_until(self._listening, 30, "lambda-local's Invoke API", interval=0.1)

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"lambda-local exited: {self.log_path.read_text()}")
        try:
            self.stats()
            return True
        except OSError:
            return False

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.invoke_url}/stats", timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
