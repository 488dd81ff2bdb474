"""Running the real `taskengine` command."""

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from tests.support.procs import TASKENGINE


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    done = subprocess.run(
        [TASKENGINE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    return Result(done.returncode, done.stdout, done.stderr)
