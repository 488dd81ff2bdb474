"""Deploy template.yaml to LocalStack (or any endpoint that speaks S3,
CloudFormation and API Gateway) and print the REST API's URL.

Steps: `sam build` (no container), migrate the database, zip each function's
artifact and upload it to S3, create or update the CloudFormation stack (the
endpoint runs the SAM transform), wait for it, then find the REST API by the
name the template gives it. Clients come from localstack-client, which points
every service at AWS_ENDPOINT_URL (default http://localhost:4566).

    docker compose -f localstack/docker-compose.yml up -d
    python localstack/deploy.py
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml
from localstack_client.session import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from lambda_local.template import cfn_yaml_loader  # noqa: E402

__all__ = ["api_url", "deploy", "main", "upload_artifacts"]

STAGE = "Prod"
# As the functions' containers on LocalStack's network see the compose services.
FUNCTION_DATABASE_URL = "postgresql://postgres:taskengine@postgres:5432/taskengine"
FUNCTION_REDIS_URL = "redis://redis:6379/0"
# As this machine sees the same PostgreSQL (published port), to migrate it.
HOST_DATABASE_URL = "postgresql://postgres:taskengine@127.0.0.1:55432/taskengine"


def build(build_dir: Path) -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sam = str(Path(sys.executable).parent / "sam")
    subprocess.run(
        [
            sam,
            "build",
            "--build-in-source",
            "--template",
            "template.yaml",
            "--build-dir",
            build_dir,
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )


def upload_artifacts(s3: Any, bucket: str, stack: str, build_dir: Path) -> dict[str, str]:
    """Zip each function's built folder and upload it; returns function -> S3 key.
    Keys name the content's hash, so an unchanged function is not re-uploaded."""
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in buckets:
        s3.create_bucket(Bucket=bucket)
    keys: dict[str, str] = {}
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        archive = _zip(folder)
        key = f"{stack}/{folder.name}-{hashlib.sha256(archive).hexdigest()[:16]}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=archive)
        keys[folder.name] = key
        print(f"uploaded {folder.name}: s3://{bucket}/{key} ({len(archive) // 1024} KiB)")
    return keys


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(path.relative_to(folder)), (1980, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def template_body(build_dir: Path, bucket: str, keys: dict[str, str]) -> str:
    """The built template with each function's code in S3."""
    doc = yaml.load((build_dir / "template.yaml").read_text(), Loader=cfn_yaml_loader())
    for name, resource in doc["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = {"Bucket": bucket, "Key": keys[name]}
            resource.pop("Metadata", None)  # build instructions, already carried out
    return json.dumps(doc)


def deploy(cfn: Any, stack: str, body: str, parameters: dict[str, str]) -> None:
    """Create the stack, or update it if it exists, and wait until it settles."""
    arguments = {
        "StackName": stack,
        "TemplateBody": body,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    existing = {
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
    if stack in existing:
        try:
            cfn.update_stack(**arguments)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            print("stack unchanged")
            return
        waiter = cfn.get_waiter("stack_update_complete")
    else:
        cfn.create_stack(**arguments)
        waiter = cfn.get_waiter("stack_create_complete")
    print(f"waiting for stack {stack} ...", flush=True)
    waiter.wait(StackName=stack, WaiterConfig={"Delay": 2, "MaxAttempts": 150})


def api_url(apigateway: Any, stack: str, endpoint: str) -> str:
    """The REST API the template names "<stack>-api", as LocalStack serves it."""
    apis = apigateway.get_rest_apis(limit=500)["items"]
    found = [api["id"] for api in apis if api.get("name") == f"{stack}-api"]
    if not found:
        raise SystemExit(f"no REST API named {stack}-api: did the stack create one?")
    return f"{endpoint.rstrip('/')}/restapis/{found[0]}/{STAGE}/_user_request_"


def migrate(database_url: str) -> None:
    from core.db import connect
    from core.migrate import apply_migrations

    conn = connect(database_url, "taskengine-deploy")
    try:
        apply_migrations(conn)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", default="task-engine", help="stack name (default task-engine)")
    parser.add_argument("--bucket", default="task-engine-artifacts", help="S3 bucket for code")
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    parser.add_argument("--skip-build", action="store_true", help="deploy what --build-dir holds")
    parser.add_argument(
        "--migrate-url",
        default=HOST_DATABASE_URL,
        help="PostgreSQL to migrate before deploying, as this machine reaches it ('' skips)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter (DatabaseUrl and RedisUrl default to the compose services)",
    )
    args = parser.parse_args(argv)
    endpoint = os.environ.setdefault("AWS_ENDPOINT_URL", "http://localhost:4566")
    parameters = {"DatabaseUrl": FUNCTION_DATABASE_URL, "RedisUrl": FUNCTION_REDIS_URL}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--parameter {item!r}: expected NAME=VALUE")
        parameters[name] = value
    if not args.skip_build:
        build(args.build_dir)
    if args.migrate_url:
        migrate(args.migrate_url)
    session = Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    keys = upload_artifacts(session.client("s3"), args.bucket, args.stack, args.build_dir)
    body = template_body(args.build_dir, args.bucket, keys)
    deploy(session.client("cloudformation"), args.stack, body, parameters)
    print(api_url(session.client("apigateway"), args.stack, endpoint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
