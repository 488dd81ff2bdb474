"""Benchmark of the HTTP API with wrk (keep-alive connections on loopback).

    python -m bench.api                        # 3 runs of each scenario, medians
    python -m bench.api --workers 2 --threads 16 --connections 16 --seconds 10

Needs `wrk` (Debian: apt-get install wrk). Uses DATABASE_URL and REDIS_URL
like bench.core (a fresh database and prefix per run), or embedded servers.
"""

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.open_loop import open_loop
from bench.target import TASKENGINE, free_port, fresh_target, machine

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, script: str | None, connections: int, seconds: float) -> dict[str, Any]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{round(seconds)}s", "--latency", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {
        p: round(float(v) * _UNITS[u], 2)
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": rate,
        "latency_ms": latency,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _lua(folder: Path, name: str, body: Any) -> str:
    path = folder / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    return str(path)


def run(
    workers: int, threads: int, connections: int, seconds: float, batch: int, rate: float
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="te-bench-api-"))
    try:
        with fresh_target() as target:
            port = free_port()
            server = subprocess.Popen(
                [
                    TASKENGINE,
                    "api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ],
                env=target.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_up(base)
                single = _lua(folder, "single", {"payload": {"type": "noop"}})
                many = _lua(
                    folder,
                    "batch",
                    {"jobs": [{"payload": {"type": "noop", "i": i}} for i in range(batch)]},
                )
                post = _wrk(f"{base}/jobs", single, connections, seconds)
                steady = open_loop(
                    "127.0.0.1", port, "/jobs", b'{"payload":{"type":"noop"}}', rate, seconds
                )
                batched = _wrk(f"{base}/jobs/batch", many, max(2, connections // 4), seconds)
                job_id = _submit_one(base)
                get = _wrk(f"{base}/jobs/{job_id}", None, connections, seconds)
            finally:
                server.terminate()
                server.wait(30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "workers": workers,
        "threads": threads,
        "connections": connections,
        "post_jobs": post,
        "post_jobs_open_loop": steady,
        "get_job": get,
        "batch_jobs_per_s": round(batched["requests_per_s"] * batch, 1),
        "batch": batched,
    }


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _submit_one(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/jobs",
        data=b'{"payload": {"type": "noop"}}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per API process")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=500, help="jobs per POST /jobs/batch")
    parser.add_argument(
        "--rate", type=float, default=1000, help="open-loop POST /jobs arrivals per second"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench.api needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print(json.dumps({"machine": machine()}), flush=True)
    runs = []
    for index in range(args.runs):
        runs.append(
            run(args.workers, args.threads, args.connections, args.seconds, args.batch, args.rate)
        )
        print(json.dumps({"run": index + 1, **runs[-1]}), flush=True)
    summary = {
        "post_jobs_per_s_median": statistics.median(r["post_jobs"]["requests_per_s"] for r in runs),
        "post_jobs_p99_ms_median": statistics.median(
            r["post_jobs"]["latency_ms"].get("99", 0) for r in runs
        ),
        "open_loop_p99_ms_median": statistics.median(
            r["post_jobs_open_loop"]["latency_ms"]["99"] for r in runs
        ),
        "get_job_per_s_median": statistics.median(r["get_job"]["requests_per_s"] for r in runs),
        "batch_jobs_per_s_median": statistics.median(r["batch_jobs_per_s"] for r in runs),
    }
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
