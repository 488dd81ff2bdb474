"""The peers' own virtualenv, <repo>/.bench-peers/venv, kept apart from the project's
so that six job queues' pins never reach task-engine's dependencies.

It is rebuilt from scratch whenever requirements.txt changes (a hash file records
the one it was built from), since pip upgrading in place can leave stale packages.
"""

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["REQUIREMENTS", "ensure_venv"]

REQUIREMENTS = Path(__file__).with_name("requirements.txt")


def _log(message: str) -> None:
    print(f"peers: {message}", file=sys.stderr, flush=True)


def ensure_venv(root: Path) -> Path:
    """Return the peer venv's python under `root` (the repository), building it first
    if it is missing or was built from another requirements.txt."""
    home = root / ".bench-peers"
    venv = home / "venv"
    python = venv / "bin" / "python"
    stamp = home / "requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    started = time.monotonic()
    _log(f"building {venv} from {REQUIREMENTS.name}")
    stamp.unlink(missing_ok=True)  # a build that fails half-way must not look current
    shutil.rmtree(venv, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-r", str(REQUIREMENTS)], check=True, stdout=sys.stderr)
    stamp.write_text(wanted + "\n")
    _log(f"peer venv ready in {time.monotonic() - started:.1f}s")
    return python
