"""The Lambda artifact's dependency list follows pyproject.toml."""

import tomllib
from pathlib import Path

from infra.lambda_artifact import NOT_IN_LAMBDA, lambda_requirements

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_runtime_dependency_but_the_server_and_boto3_goes_to_lambda() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    shipped = lambda_requirements()
    assert set(shipped) <= set(declared)
    left_out = {spec.split(">")[0].split("<")[0] for spec in set(declared) - set(shipped)}
    assert left_out == NOT_IN_LAMBDA
    assert any(spec.startswith("pg8000") for spec in shipped)
