"""The ``taskengine`` command line. Output is JSON on stdout; errors go to stderr.

Exit codes: 0 success, 1 failure (e.g. a service unreachable), 2 invalid
usage or input, 3 not found, 4 conflict (idempotency key reused).
"""

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core.config import ConfigError, Settings, describe_settings, load_settings
from core.errors import TaskEngineError, ValidationError
from core.validation import parse_json_object

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        settings = load_settings()
        if args.url or args.api_key:
            settings = dataclasses.replace(
                settings, url=args.url or settings.url, api_key=args.api_key or settings.api_key
            )
        code: int = args.run(args, settings)
        return code
    except ConfigError as exc:
        return _fail(f"configuration: {exc}", 2)
    except TaskEngineError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as exc:
        return _fail(_explain(exc), 1)


def _explain(exc: Exception) -> str:
    """A message for a failure outside the user's input: which service, and what to do."""
    import pg8000.native
    import redis

    if isinstance(exc, pg8000.native.DatabaseError) and exc.args:
        details = exc.args[0] if isinstance(exc.args[0], dict) else {}
        if details.get("C") == "42P01":  # undefined_table
            return "the database has no jobs table: run `taskengine migrate` first"
        return f"PostgreSQL: {details.get('M', exc)}"
    if isinstance(exc, pg8000.native.InterfaceError):
        return f"cannot reach PostgreSQL (DATABASE_URL): {exc}"
    if isinstance(exc, redis.RedisError):
        return f"Redis (REDIS_URL): {exc}"
    if isinstance(exc, OSError):
        return f"cannot reach a service: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _fail(message: str, code: int) -> int:
    print(f"taskengine: error: {message}", file=sys.stderr)
    return code


def _print(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


# -- commands -------------------------------------------------------------------


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from core.config import require_urls
    from core.db import connect
    from core.migrate import apply_migrations

    database_url, _ = require_urls(settings)
    conn = connect(database_url, "taskengine-migrate")
    try:
        applied = apply_migrations(conn)
    finally:
        conn.close()
    _print({"applied": [f"{m.version:04d}_{m.name}" for m in applied]})
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from core.runtime import run_worker_command
    from core.worker import WorkerOptions

    options = WorkerOptions(queues=_queues(args.queues, settings), concurrency=args.concurrency)
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    return run_worker_command(settings, options, args.processes, args.metrics_host, port)


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.payload in (None, "-") else args.payload
    item = {
        "payload": parse_json_object(text, "payload"),
        "queue": args.queue,
        "max_attempts": args.max_attempts,
        "delay_seconds": args.delay,
        "idempotency_key": args.idempotency_key,
    }
    _print(_backend(settings).submit({k: v for k, v in item.items() if v is not None}))
    return 0


def _get(args: argparse.Namespace, settings: Settings) -> int:
    _print(_backend(settings).get(args.id))
    return 0


def _jobs(args: argparse.Namespace, settings: Settings) -> int:
    _print(_backend(settings).page(_filters(args, status=args.status), failed_only=False))
    return 0


def _dlq_list(args: argparse.Namespace, settings: Settings) -> int:
    _print(_backend(settings).page(_filters(args), failed_only=True))
    return 0


def _filters(args: argparse.Namespace, status: str | None = None) -> dict[str, Any]:
    present = {
        "status": status,
        "queue": args.queue,
        "type": args.type,
        "limit": args.limit,
        "cursor": args.cursor,
    }
    return {k: v for k, v in present.items() if v is not None}


def _dlq_redrive(args: argparse.Namespace, settings: Settings) -> int:
    chosen = {"ids": args.id, "queue": args.queue, "type": args.type}
    selection = {k: v for k, v in chosen.items() if v}
    if not selection and not args.all:
        raise ValidationError("say which jobs: --id, --queue, --type, or --all")
    if selection and args.all:
        raise ValidationError("--all cannot be combined with --id, --queue or --type")
    if args.limit is not None:
        selection["limit"] = args.limit
    _print(_backend(settings).redrive(selection, dry_run=args.dry_run))
    return 0


def _queues_cmd(args: argparse.Namespace, settings: Settings) -> int:
    _print(_backend(settings).queues())
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from core.config import require_urls
    from core.pgstore import PgStore
    from core.reconcile import Reconciler
    from core.runtime import open_dispatch

    database_url, _ = require_urls(settings)
    reconciler = Reconciler(PgStore(database_url, "taskengine-reconcile"), open_dispatch(settings))
    reaped = reconciler.reap()
    report = reconciler.run(full=args.full)
    _print({**report.to_dict(), "reaped": reaped})
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import os
    import tempfile

    # Before prometheus_client is imported, so that /metrics sums every server process.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="taskengine-api-"))
    from core.api.server import run_api

    port = settings.api_port if args.port is None else args.port
    return run_api(settings, args.host, port, args.workers, args.threads)


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from core.dev import run_dev

    return run_dev(settings, args.processes, args.concurrency, args.metrics_port, args.api_port)


def _lambda_local(args: argparse.Namespace, settings: Settings) -> int:
    from lambda_local.main import run

    return run(args)


def _backend(settings: Settings) -> Any:
    """The engine itself, or the HTTP API when TASKENGINE_URL (or --url) names one."""
    from core.backends import open_backend

    return open_backend(settings)


def _queues(raw: str | None, settings: Settings) -> tuple[str, ...]:
    names = tuple(q.strip() for q in (raw or settings.default_queue).split(",") if q.strip())
    if not names:
        raise ValidationError("--queues needs at least one queue name")
    return names


# -- argument parsing -------------------------------------------------------------


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} must be at least 1")
    return value


def _port(raw: str) -> int:
    value = int(raw) if raw.isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number (0 to 65535)")
    return value


def _settings_epilog() -> str:
    lines = ["environment (defaults in brackets):"]
    for env, default, doc in describe_settings():
        lines.append(f"  {env} [{default}]\n      {doc}")
    lines.append("\nexit codes: 0 ok, 1 failure, 2 invalid input, 3 not found, 4 conflict")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskengine",
        description="Durable job processing on PostgreSQL and Redis.",
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        help="go through the HTTP API at this URL (default TASKENGINE_URL; unset: "
        "talk to PostgreSQL and Redis directly)",
    )
    parser.add_argument("--api-key", help="API key for --url (default TASKENGINE_API_KEY)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run: Command, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(run=run)
        return p

    command("migrate", _migrate, "apply pending database migrations (safe to repeat)")
    _add_worker_args(command("worker", _worker, "run jobs until SIGTERM"))
    api = command("api", _api, "serve the HTTP API (granian processes and threads, keep-alive)")
    api.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    api.add_argument(
        "--port", type=_port, default=None, help="port (default TASKENGINE_API_PORT, 8080)"
    )
    api.add_argument("--workers", type=_positive_int, default=2, help="processes (default 2)")
    api.add_argument(
        "--threads",
        type=_positive_int,
        default=16,
        help="request threads per process (default 16; concurrent submits share a commit)",
    )
    _add_submit_args(command("submit", _submit, "submit a job; prints it as JSON"))
    get = command("get", _get, "print one job as JSON")
    get.add_argument("id", help="the job's UUID")
    jobs = command("jobs", _jobs, "list jobs, newest first")
    jobs.add_argument("--status", help="queued, running, completed or failed")
    _add_list_args(jobs)
    _add_dlq_args(command("dlq", lambda a, s: 2, "the dead-letter queue: list, redrive"))
    command("queues", _queues_cmd, "depth per queue and state, and the oldest ready job's age")
    reconcile = command(
        "reconcile", _reconcile, "re-dispatch jobs Redis lost and return expired claims"
    )
    reconcile.add_argument("--full", action="store_true", help="rebuild Redis from PostgreSQL")
    dev = command(
        "dev", _dev, "one command for a working system: embedded services, migrations, workers"
    )
    dev.add_argument("--processes", type=_positive_int, default=1, help="worker processes")
    dev.add_argument("--concurrency", type=_positive_int, default=10, help="threads per process")
    dev.add_argument("--metrics-port", type=_port, default=9091, help="worker metrics port")
    dev.add_argument("--api-port", type=_port, default=8080, help="HTTP API port (0: no API)")
    _add_lambda_local_args(
        command(
            "lambda-local",
            _lambda_local,
            "the Lambda functions as real execution environments without Docker: "
            "API Gateway, Invoke API and schedule (needs the lambda-local extra)",
        )
    )
    return parser


def _add_lambda_local_args(p: argparse.ArgumentParser) -> None:
    from lambda_local.options import add_arguments

    add_arguments(p)


def _add_worker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=10,
        help="jobs run at once per process, one thread each (default 10)",
    )
    p.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        help="worker processes under one supervisor (default 1)",
    )
    p.add_argument("--queues", help="comma-separated queues, in priority order (default: default)")
    p.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        help="port of /metrics, /healthz, /readyz (default TASKENGINE_METRICS_PORT, 9091; 0: off)",
    )
    p.add_argument("--metrics-host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")


def _add_submit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "payload",
        nargs="?",
        help='the payload as JSON, e.g. \'{"type": "echo", "x": 1}\'; omitted or -: read stdin',
    )
    p.add_argument("--queue", help="queue name (default TASKENGINE_DEFAULT_QUEUE)")
    p.add_argument("--max-attempts", type=int, help="attempts before the DLQ (1-1000)")
    p.add_argument("--delay", type=float, help="seconds before the first attempt")
    p.add_argument("--idempotency-key", help="submitting the same key again returns the same job")


def _add_list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--type", help="only this job type")
    p.add_argument("--limit", type=int, default=50, help="jobs per page, 1-1000 (default 50)")
    p.add_argument("--cursor", help="next_cursor of the previous page")


def _add_dlq_args(dlq: argparse.ArgumentParser) -> None:
    sub = dlq.add_subparsers(dest="dlq_command", metavar="SUBCOMMAND", required=True)
    listing = sub.add_parser("list", help="list failed jobs with their errors")
    listing.set_defaults(run=_dlq_list)
    _add_list_args(listing)
    redrive = sub.add_parser(
        "redrive",
        help="requeue failed jobs with a fresh retry budget",
        description="Requeue failed jobs with a fresh retry budget. Attempts and the error "
        "history are kept. Running jobs are never touched; repeating it is harmless.",
    )
    redrive.set_defaults(run=_dlq_redrive)
    redrive.add_argument("--all", action="store_true", help="every failed job")
    redrive.add_argument("--id", action="append", help="a job id (repeatable)")
    redrive.add_argument("--queue", help="failed jobs of this queue")
    redrive.add_argument("--type", help="failed jobs of this type")
    redrive.add_argument("--limit", type=int, help="at most this many")
    redrive.add_argument("--dry-run", action="store_true", help="show what would be redriven")


if __name__ == "__main__":
    sys.exit(main())
