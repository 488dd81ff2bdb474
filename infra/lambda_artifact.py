"""Build the Lambda code artifact into a folder: the project's packages (core,
functions) and their runtime dependencies as Linux x86_64 wheels for Python 3.11,
so `sam build` needs no container. `make build-<Function>` (the SAM template's
makefile build method) calls it with $(ARTIFACTS_DIR).

Dependencies come from pyproject.toml, less what Lambda does not need: granian
serves `taskengine api` only, and the Lambda runtime ships boto3.
"""

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_IN_LAMBDA = {"granian", "boto3"}
# The runtime's botocore needs python-dateutil 2 (pg8000 would take 4), and our
# folder comes first on sys.path.
CONSTRAINTS = ["python-dateutil<3"]
PLATFORM = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11"]


def lambda_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        spec
        for spec in project["dependencies"]
        if spec.split(">")[0].split("<")[0].split("=")[0].strip() not in NOT_IN_LAMBDA
    ]


def build(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target", str(target)]
    subprocess.run([*pip, "--no-deps", "--no-compile", str(ROOT)], check=True)
    subprocess.run(
        [
            *pip,
            "--no-compile",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            *PLATFORM,
            *lambda_requirements(),
            *CONSTRAINTS,
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path, help="folder to fill (SAM's ARTIFACTS_DIR)")
    build(parser.parse_args(argv).target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
