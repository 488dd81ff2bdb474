"""`taskengine lambda-local`: the template's functions as real Lambda execution
environments on this machine, without Docker. One command starts:

- a pool of emulator processes per function (cold starts on demand, warm reuse,
  idle ones stopped), up to --concurrency environments per function;
- the Invoke API on --invoke-port (boto3's ``endpoint_url``), which ``submit``
  uses to nudge ``process``;
- the API Gateway front door on --api-port, routed by the template's Api events;
- the schedule that fires ``process`` like its EventBridge rule.

With neither DATABASE_URL nor REDIS_URL set it starts embedded servers, as
`taskengine dev` does; either way the database is migrated first.
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from typing import Any, TextIO

from core.config import ConfigError, load_settings
from core.dev import local_services
from lambda_local.environment import find_emulator
from lambda_local.front_door import FrontDoor
from lambda_local.invoke_api import InvokeApi
from lambda_local.options import ROOT
from lambda_local.runtime import LocalLambda
from lambda_local.schedule import Scheduler
from lambda_local.template import load_template

__all__ = ["run"]

# What an execution environment inherits from this process (Lambda's own
# environment is clean: the template's variables, the AWS ones, and these).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "PYTHONPATH")


def run(args: argparse.Namespace) -> int:
    parameters = dict(_pair(item) for item in args.parameter)
    if not args.template.is_file():
        raise ConfigError(f"template {args.template} not found (--template)")
    find_emulator()  # before any server starts: says what to install if it is missing
    with contextlib.ExitStack() as stack:
        settings = stack.enter_context(local_services(load_settings()))
        # The template's parameters default to this environment's settings.
        parameters.setdefault("DatabaseUrl", settings.database_url or "")
        parameters.setdefault("RedisUrl", settings.redis_url or "")
        parameters.setdefault("RedisPrefix", settings.redis_prefix)
        parameters.setdefault("ApiKeys", ",".join(settings.api_keys))
        template = load_template(args.template, parameters)
        record_to: TextIO | None = None
        if args.record:
            record_to = stack.enter_context(args.record.open("a"))
        runtime = LocalLambda(
            template,
            _base_environment(args.host, args.invoke_port),
            ROOT,
            args.concurrency,
            args.idle_seconds,
            record_to,
            on_line=_echo(args.quiet),
        )
        stack.callback(_print_stats, runtime)
        stack.callback(runtime.close)
        invoke_api = InvokeApi(args.host, args.invoke_port, runtime)
        front_door = FrontDoor(args.host, args.api_port, runtime)
        for server in (invoke_api, front_door):
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
        scheduler = Scheduler(runtime, args.schedule_seconds)
        stack.callback(scheduler.stop)
        print(
            json.dumps(
                {
                    "api": f"http://{args.host}:{args.api_port}",
                    "invoke": f"http://{args.host}:{args.invoke_port}",
                    "functions": sorted(template.functions),
                }
            ),
            file=sys.stderr,
            flush=True,
        )
        _wait_for_signal()
    return 0


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise SystemExit(f"--parameter {item!r}: expected NAME=VALUE")
    return name, value


def _base_environment(host: str, invoke_port: int) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith("TASKENGINE_")})
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # boto3 signs requests even to a local endpoint: it needs some credentials.
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "TASKENGINE_LAMBDA_ENDPOINT_URL": f"http://{host}:{invoke_port}",
        }
    )
    return env


def _echo(quiet: bool) -> Any:
    lock = threading.Lock()

    def echo(function: str, line: str) -> None:
        if quiet or ("(rapid)" in line and "INIT REPORT" not in line):
            return
        with lock:
            print(f"[{function}] {line}", file=sys.stderr, flush=True)

    return echo


def _print_stats(runtime: LocalLambda) -> None:
    print(json.dumps({"stats": runtime.stats()}), file=sys.stderr, flush=True)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
