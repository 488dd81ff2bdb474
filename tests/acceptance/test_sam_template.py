"""template.yaml passes `sam validate --lint` (cfn-lint), and `sam build` makes each
function's artifact without a container; each handler imports from its artifact
alone (plus the standard library, as on Lambda's Python runtime)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM = str(Path(sys.executable).parent / "sam")
HANDLERS = {
    "SubmitFunction": "functions.submit",
    "GetFunction": "functions.get",
    "ProcessFunction": "functions.process",
    "DlqRedriveFunction": "functions.dlq_redrive",
}


def _sam_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"})
    # The Makefile's python3 is this interpreter, which has pip.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_template_passes_sam_validate_with_cfn_lint() -> None:
    done = subprocess.run(
        [SAM, "validate", "--lint", "--template", str(ROOT / "template.yaml")],
        env=_sam_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid SAM Template" in done.stdout + done.stderr


def test_the_template_passes_cfn_lint_on_its_own() -> None:
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    done = subprocess.run(
        [cfn_lint, str(ROOT / "template.yaml")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(600)
def test_sam_build_needs_no_container(tmp_path: Path) -> None:
    build = tmp_path / "build"
    done = subprocess.run(
        [
            SAM,
            "build",
            "--build-in-source",
            "--template",
            "template.yaml",
            "--build-dir",
            str(build),
        ],
        cwd=ROOT,
        env=_sam_env(),
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for function, module in HANDLERS.items():
        artifact = build / function
        assert (artifact / "core" / "sql" / "queries.sql").is_file()
        assert not (artifact / "granian").exists()  # the container server stays out
        imported = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                f"import sys; sys.path.insert(0, {str(artifact)!r}); "
                f"import {module}; print({module}.handler.__name__)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", "")},
        )
        assert imported.stdout.strip() == "handler", imported.stderr
