"""localstack/deploy.py's AWS calls against moto in server mode (no LocalStack can
run in CI): artifacts uploaded to S3, the stack created (then updated) with each
function's code in S3, and the REST API found by the name the template gives it."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.procs import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "localstack"))
import deploy  # noqa: E402

FUNCTIONS = ("SubmitFunction", "GetFunction", "DlqRedriveFunction", "ProcessFunction")


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        wait_until(lambda: _up(endpoint), 30, "moto_server")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def _up(endpoint: str) -> bool:
    try:
        _client("s3", endpoint).list_buckets()
        return True
    except Exception:
        return False


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    """What `sam build` leaves: the template and one folder per function."""
    build = tmp_path / "build"
    for name in FUNCTIONS:
        (build / name / "functions").mkdir(parents=True)
        (build / name / "functions" / "__init__.py").write_text(f"# {name}\n")
    (build / "template.yaml").write_text((ROOT / "template.yaml").read_text())
    return build


def test_deploy_uploads_creates_the_stack_and_prints_the_api_url(
    moto_endpoint: str, build_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto does not run the SAM transform, so the REST API it would create is made
    # here, under the name the template gives it.
    api_id = _client("apigateway", moto_endpoint).create_rest_api(name="demo-api")["id"]
    argv = ["--stack", "demo", "--skip-build", "--build-dir", str(build_dir), "--migrate-url", ""]
    assert deploy.main([*argv, "--parameter", "ApiKeys=k1"]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url == f"{moto_endpoint}/restapis/{api_id}/Prod/_user_request_"

    s3 = _client("s3", moto_endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="task-engine-artifacts")["Contents"]]
    assert sorted(k.split("/")[1].split("-")[0] for k in keys) == sorted(FUNCTIONS)

    cfn = _client("cloudformation", moto_endpoint)
    body = cfn.get_template(StackName="demo")["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    submit = template["Resources"]["SubmitFunction"]
    assert submit["Properties"]["CodeUri"]["Bucket"] == "task-engine-artifacts"
    assert submit["Properties"]["CodeUri"]["Key"] in keys
    assert "Metadata" not in submit
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    stack = cfn.describe_stacks(StackName="demo")["Stacks"][0]
    given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert given["DatabaseUrl"] == deploy.FUNCTION_DATABASE_URL
    assert given["ApiKeys"] == "k1"

    # A second deploy of changed code updates the same stack.
    (build_dir / "GetFunction" / "functions" / "__init__.py").write_text("# changed\n")
    assert deploy.main(argv) == 0
    assert len(s3.list_objects_v2(Bucket="task-engine-artifacts")["Contents"]) == 5
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["demo"]


def test_a_missing_rest_api_is_a_clear_error(moto_endpoint: str, build_dir: Path) -> None:
    argv = ["--stack", "lonely", "--skip-build", "--build-dir", str(build_dir), "--migrate-url", ""]
    with pytest.raises(SystemExit, match="no REST API named lonely-api"):
        deploy.main(argv)
