"""Benchmark of the Lambda functions in local execution environments (the Runtime
Interface Emulator running awslambdaric, as `taskengine lambda-local` runs them):

- cold start: each function's init duration (the emulator's INIT REPORT) over
  --fresh new environments, with `python -X importtime` of its module beside it;
- warm get: GET /jobs/{id} through the local API Gateway front door against the
  same request to `taskengine api`, sequential keep-alive requests, p50 and p95;
- process throughput: one warm `process` environment draining --jobs queued
  noop jobs (scheduled events, back to back) against one `taskengine worker`
  process on the same backlog, both timed from the job timestamps in PostgreSQL.

    python -m bench.lambda_local                       # everything, 3 runs of the drains
    python -m bench.lambda_local --only cold --fresh 10

Uses DATABASE_URL and REDIS_URL when set, else embedded servers (see bench.core).
"""

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import _service, _submit_backlog, _timing, _wait_all_completed, _worker
from bench.target import TASKENGINE, Target, free_port, fresh_target, machine
from core.validation import parse_new_job
from lambda_local.environment import ExecutionEnvironment, find_emulator
from lambda_local.runtime import percentiles
from lambda_local.template import FunctionSpec, load_template

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"
FIRST_EVENT = {
    "GetFunction": "apigw_healthz",
    "SubmitFunction": "apigw_submit_job",
    "DlqRedriveFunction": "apigw_dlq",
    "ProcessFunction": "scheduled",
}
MODULES = {
    "GetFunction": "functions.get",
    "SubmitFunction": "functions.submit",
    "DlqRedriveFunction": "functions.dlq_redrive",
    "ProcessFunction": "functions.process",
}


def _specs(target: Target, **parameters: str) -> dict[str, FunctionSpec]:
    given = {
        "DatabaseUrl": target.database_url,
        "RedisUrl": target.redis_url,
        "RedisPrefix": target.prefix,
        **parameters,
    }
    return load_template(ROOT / "template.yaml", given).functions


def _environment(spec: FunctionSpec, target: Target, **extra: str) -> ExecutionEnvironment:
    env = {
        name: value
        for name, value in target.env(**extra).items()
        if name in ("PATH", "HOME", "LANG") or name.startswith("TASKENGINE_")
    }
    env.update({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    return ExecutionEnvironment(spec, find_emulator(), env, ROOT, lambda name, line: None)


def cold_starts(fresh: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with fresh_target() as target:
        specs = _specs(target, NudgeProcess="false")
        for name, spec in specs.items():
            payload = (EVENTS / f"{FIRST_EVENT[name]}.json").read_bytes()
            inits, firsts = [], []
            for _ in range(fresh):
                started = time.monotonic()
                env = _environment(spec, target)
                try:
                    result = env.invoke(payload)
                finally:
                    env.stop()
                assert result.error is None, result.payload
                if result.init_ms is not None:
                    inits.append(result.init_ms)
                firsts.append((time.monotonic() - started) * 1000)
            out[name] = {
                "environments": fresh,
                "init_ms": percentiles(inits),
                "spawn_to_first_answer_ms": percentiles(firsts),
                "imports_ms": import_breakdown(MODULES[name]),
            }
    return out


def import_breakdown(module: str, top: int = 8) -> dict[str, float]:
    """The module's cumulative import time, and the self time summed per top-level
    package (non-overlapping) for the heaviest packages, in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, float] = {}
    total = 0.0
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if not match:
            continue
        own, cumulative, name = int(match.group(1)), int(match.group(2)), match.group(3)
        if name == module:
            total = cumulative / 1000
        root = name.split(".")[0]
        packages[root] = packages.get(root, 0.0) + own / 1000
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:top]
    return {"total": round(total, 1), **{k: round(v, 1) for k, v in heaviest}}


def warm_get(requests: int) -> dict[str, Any]:
    with fresh_target() as target:
        service = _service(target)
        job = parse_new_job({"payload": {"type": "noop"}}, service.settings)
        job_id = service.submit_batch([job])[0].id
        api_port, door_port, invoke_port = free_port(), free_port(), free_port()
        api = subprocess.Popen(
            [TASKENGINE, "api", "--host", "127.0.0.1", "--port", str(api_port)],
            env=target.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        door = subprocess.Popen(
            [
                TASKENGINE,
                "lambda-local",
                "--api-port",
                str(door_port),
                "--invoke-port",
                str(invoke_port),
                "--schedule-seconds",
                "0",
                "--quiet",
            ],
            env=target.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            path = f"/jobs/{job_id}"
            return {
                "requests": requests,
                "taskengine_api_ms": _sequential(api_port, path, requests),
                "lambda_front_door_ms": _sequential(door_port, path, requests),
            }
        finally:
            for process in (api, door):
                process.terminate()
                process.wait(30)


def _sequential(port: int, path: str, requests: int) -> dict[str, float] | None:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} did not answer")
        time.sleep(0.2)
    for _ in range(50):  # warm up
        conn.request("GET", path)
        conn.getresponse().read()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status == 200
    conn.close()
    return percentiles(times)


def drain_worker(jobs: int, concurrency: int) -> dict[str, Any]:
    with fresh_target() as target:
        service = _service(target)
        _submit_backlog(service, jobs, 1000)
        with _worker(target, 1, concurrency):
            _wait_all_completed(service, jobs, timeout=900)
        return _timing(service)


def drain_process(jobs: int, concurrency: int) -> dict[str, Any]:
    with fresh_target() as target:
        service = _service(target)
        spec = _specs(target, ProcessTimeout="900")["ProcessFunction"]
        env = _environment(spec, target, TASKENGINE_PROCESS_CONCURRENCY=str(concurrency))
        scheduled = (EVENTS / "scheduled.json").read_bytes()
        try:
            warm = env.invoke(scheduled)  # the cold start, on an empty queue
            assert warm.error is None, warm.payload
            _submit_backlog(service, jobs, 1000)
            invocations = 0
            while True:
                result = env.invoke(scheduled)
                invocations += 1
                assert result.error is None, result.payload
                if json.loads(result.payload)["processed"] == 0:
                    break
            _wait_all_completed(service, jobs, timeout=10)
        finally:
            env.stop()
        return {**_timing(service), "invocations": invocations}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["cold", "warm", "drain"], help="one scenario")
    parser.add_argument("--fresh", type=int, default=10, help="new environments per function")
    parser.add_argument("--requests", type=int, default=1000, help="sequential warm GETs")
    parser.add_argument("--jobs", type=int, default=20000, help="noop jobs per drain")
    parser.add_argument("--runs", type=int, default=3, help="drains per mode")
    parser.add_argument("--concurrency", type=int, default=16, help="threads: worker and process")
    args = parser.parse_args(argv)
    print(json.dumps({"machine": machine()}), flush=True)
    if args.only in (None, "cold"):
        print(json.dumps({"cold_start": cold_starts(args.fresh)}), flush=True)
    if args.only in (None, "warm"):
        print(json.dumps({"warm_get": warm_get(args.requests)}), flush=True)
    if args.only in (None, "drain"):
        worker, process = [], []
        for run in range(args.runs):
            worker.append(drain_worker(args.jobs, args.concurrency))
            process.append(drain_process(args.jobs, args.concurrency))
            print(
                json.dumps({"run": run + 1, "worker": worker[-1], "process": process[-1]}),
                flush=True,
            )
        w = statistics.median(r["jobs_per_s"] for r in worker)
        p = statistics.median(r["jobs_per_s"] for r in process)
        print(
            json.dumps(
                {
                    "drain_summary": {
                        "worker_jobs_per_s_median": w,
                        "process_jobs_per_s_median": p,
                        "process_over_worker": round(p / w, 3),
                    }
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
