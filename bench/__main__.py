"""One benchmark across every mode: the same scenarios through the same HTTP API,
figures from the same job timestamps, one report.

    python -m bench                          # every mode that can run here, every scenario, 3 runs
    python -m bench --quick                  # the smoke preset (under 2 minutes; CI runs it)
    python -m bench --mode workers-1 --mode lambda-nudge-c16 --scenario steady --runs 5
    python -m bench --mode https://abc.execute-api.us-east-1.amazonaws.com/Prod --scenario drain

Modes: workers-N (`taskengine worker --processes N`), lambda-schedule-cC and
lambda-nudge-cC (`taskengine lambda-local`, at most C environments per
function), or the URL of a deployed API. Scenarios: drain, steady, burst,
failures, io. Writes OUT/results.json, OUT/RESULTS.md and OUT/plots/*.png
(OUT: bench/results). Uses DATABASE_URL and REDIS_URL when set (each run gets a
fresh database and Redis prefix there), else starts embedded servers once.
"""

import argparse
import json
import os
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.figures import finish_timeline, job_figures
from bench.lambda_local import cold_starts
from bench.modes import LambdaLocal, Mode, mode_named
from bench.peers import PEERS
from bench.report import medians, peer_medians, write_report
from bench.scenarios import Backlog, Burst, FailureMix, Scenario, Steady, settle
from bench.target import fresh_target, machine, python_start_ms
from core.embedded import EmbeddedServers

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
FULL_MODES = [
    "workers-1",
    "workers-2",
    "lambda-schedule-c16",
    "lambda-nudge-c1",
    "lambda-nudge-c4",
    "lambda-nudge-c16",
    "compose-2",
]
QUICK_MODES = ["workers-1", "lambda-nudge-c4"]


def scenarios(quick: bool) -> dict[str, Scenario]:
    if quick:
        return {
            "drain": Backlog("drain", 1_000),
            "steady": Steady(50, 4),
            "burst": Burst(2, 20, 2),
            "failures": FailureMix(300, 0.2, 2, 0.05),
            "io": Backlog("io", 100, 20),
        }
    return {
        "drain": Backlog("drain", 20_000),
        "steady": Steady(1_000, 60),
        "burst": Burst(3, 200, 20),
        "failures": FailureMix(5_000, 0.2, 2, 0.05),
        "io": Backlog("io", 2_000, 50),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_case(mode: Mode, scenario: Scenario) -> dict[str, Any]:
    """One run: a fresh target, the mode started, the scenario's jobs to the end."""
    with fresh_target() if mode.local else nullcontext() as target:
        cpu_before = _children_cpu()
        started = time.perf_counter()
        with mode.running(target, scenario.settings) as endpoint:
            load = scenario.run(endpoint)
            jobs = settle(endpoint.url, load, scenario.timeout)
            extra = endpoint.figures()
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
    figures = job_figures(load, jobs)
    # A compose stack's CPU is its containers'; a local mode's, its child processes'.
    cpu = extra.pop("container_cpu_s", cpu if mode.local else None)
    if cpu is not None and figures["processed"]:
        figures["cpu_s_per_1000_jobs"] = round(cpu / figures["processed"] * 1000, 3)
    return {
        "mode": mode.name,
        "scenario": scenario.name,
        "wall_s": round(wall, 2),
        "figures": figures,
        "mode_figures": extra,
        "timeline": finish_timeline(load, jobs) if load.submitted_at else None,
    }


def run_peers(picked: list[Scenario], runs: int, peers: Sequence[str]) -> list[dict[str, Any]]:
    """The drain and steady scenarios on each of `peers`, on the same servers, same sizes."""
    from bench.peers import run_peer

    done = []
    for _ in range(runs):
        for scenario in picked:
            for peer in peers:
                _say(f"peer {peer}: {scenario.name} ...")
                sizes: dict[str, Any] = (
                    {"jobs": scenario.jobs}
                    if isinstance(scenario, Backlog)
                    else {
                        "rate": getattr(scenario, "rate", None),
                        "seconds": getattr(scenario, "seconds", None),
                    }
                )
                try:
                    result = run_peer(
                        peer,
                        scenario.name,
                        database_url=os.environ["DATABASE_URL"],
                        redis_url=os.environ["REDIS_URL"],
                        **sizes,
                    )
                except Exception as error:  # one peer failing is reported, not fatal
                    result = {"peer": peer, "scenario": scenario.name, "error": str(error)[-500:]}
                _say(f"    {result.get('processed_per_s')} jobs/s, lost {result.get('lost')}")
                done.append(result)
    return done


def _versions() -> dict[str, str]:
    names = ["task-engine", "pg8000", "redis", "granian", "aws-sam-cli", "awslambdaric"]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small preset: 2 modes, 1 run")
    parser.add_argument(
        "--mode", action="append", help="a mode (repeatable; default: all that can run)"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=["drain", "steady", "burst", "failures", "io"],
        help="a scenario (repeatable; default: all)",
    )
    parser.add_argument(
        "--rate", type=float, help="steady: arrivals per second (default 1,000; quick 50)"
    )
    parser.add_argument("--seconds", type=float, help="steady: how long (default 60; quick 4)")
    parser.add_argument(
        "--jobs", type=int, help="drain: backlog size (default 20,000; quick 1,000)"
    )
    parser.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run drain and steady on Celery, RQ, arq, saq, Dramatiq and Procrastinate "
        "(in .bench-peers/venv; default: on, off with --quick)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        choices=PEERS,
        help="only this peer (repeatable; implies --peers)",
    )
    parser.add_argument("--runs", type=int, help="runs per mode and scenario (default 3; quick 1)")
    parser.add_argument("--note", help="a remark printed at the top of the report")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="only write the report (and plots) again from an earlier results.json",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    return parser


def _picked(args: argparse.Namespace) -> list[Scenario]:
    """The chosen scenarios, with --rate, --seconds and --jobs applied."""
    chosen = scenarios(args.quick)
    steady = chosen["steady"]
    assert isinstance(steady, Steady)
    steady.rate = args.rate or steady.rate
    steady.seconds = args.seconds or steady.seconds
    drain = chosen["drain"]
    assert isinstance(drain, Backlog)
    drain.jobs = args.jobs or drain.jobs
    return [chosen[n] for n in args.scenario or list(chosen)]


def peers_wanted(args: argparse.Namespace) -> Sequence[str]:
    """The peers to compare with: those named by --peer, else all of them unless
    --no-peers or --quick (--peers brings them back to a quick run)."""
    if args.peers is False:
        return ()
    if args.peer:
        return list(dict.fromkeys(args.peer))
    return PEERS if args.peers or not args.quick else ()


def _run_all(
    modes: list[Mode], picked: list[Scenario], runs: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Cold starts (with a Lambda mode), every case, then the peers."""
    found: dict[str, Any] = {"cold_start": None, "runs": [], "peer_runs": []}
    if any(isinstance(m, LambdaLocal) for m in modes):
        fresh = 2 if args.quick else 10
        _say(f"cold starts: {fresh} fresh environments per function, one at a time ...")
        found["cold_start"] = cold_starts(fresh)
    results: list[dict[str, Any]] = found["runs"]
    total = len(modes) * len(picked) * runs
    for run in range(runs):
        for scenario in picked:
            for mode in modes:
                step = f"[{len(results) + 1}/{total}]"
                _say(f"{step} {scenario.name} on {mode.name} (run {run + 1}) ...")
                result = run_case(mode, scenario)
                f = result["figures"]
                _say(
                    f"    {f['processed']:,} processed at {f['processed_per_s']} jobs/s, "
                    f"lost {f['lost']}, duplicated {f['duplicated']}, {result['wall_s']} s"
                )
                results.append(result)
    if peers := peers_wanted(args):
        compared = [s for s in picked if s.name in ("drain", "steady")]
        found["peer_runs"] = run_peers(compared, runs, peers)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.render:
        document = json.loads(args.render.read_text())
        document["note"] = args.note or document.get("note")
        _say(f"wrote {write_report(args.out, document)}")
        return 0
    try:
        names = args.mode or (QUICK_MODES if args.quick else FULL_MODES)
        modes = [mode_named(n, os.cpu_count() or 1) for n in names]
    except ValueError as error:
        parser.error(str(error))
    picked = _picked(args)
    runs = args.runs or (1 if args.quick else 3)
    if runs < 1:
        parser.error("--runs must be at least 1")
    skipped = {m.name: why for m in modes if (why := m.unavailable())}
    modes = [m for m in modes if m.name not in skipped]
    servers = None
    if any(m.local for m in modes) and not (
        os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")
    ):
        servers = EmbeddedServers(Path(tempfile.mkdtemp(prefix="te-bench-")), persistent=False)
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = servers.start()
    began = time.time()
    try:
        found = _run_all(modes, picked, runs, args)
    finally:
        if servers:
            servers.stop()
    results = found["runs"]
    document = {
        "command": "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round(time.time() - began, 1),
        "runs_per_case": runs,
        "machine": {**machine(), "python -c 'import asyncio' ms": python_start_ms()},
        "versions": _versions(),
        "modes": [{"name": m.name, "description": m.description} for m in modes],
        "skipped": skipped,
        "scenarios": [
            {"name": s.name, "description": s.description, "rate": getattr(s, "rate", None)}
            for s in picked
        ],
        "note": args.note,
        "cold_start": found["cold_start"],
        "summary": medians(results),
        "peers": peer_medians(found["peer_runs"]),
        "runs": results,
    }
    page = write_report(args.out, document)
    _say(f"wrote {page} ({document['duration_s']:,.0f} s)")
    return 1 if sum(r["figures"]["lost"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
