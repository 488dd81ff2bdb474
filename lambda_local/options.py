"""The options of `taskengine lambda-local` (kept apart from the runtime, so that
building the CLI's parser imports nothing heavy)."""

import argparse
from pathlib import Path

__all__ = ["ROOT", "add_arguments"]

ROOT = Path(__file__).resolve().parent.parent


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be an integer >= 1")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--template", type=Path, default=ROOT / "template.yaml", help="SAM template")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--api-port", type=int, default=3000, help="API Gateway port (default 3000)")
    p.add_argument("--invoke-port", type=int, default=3001, help="Invoke API port (default 3001)")
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=4,
        help="most environments per function (default 4)",
    )
    p.add_argument(
        "--idle-seconds",
        type=float,
        default=600,
        help="stop an environment idle this long (default 600, as Lambda's are recycled)",
    )
    p.add_argument(
        "--schedule-seconds",
        type=float,
        default=None,
        help="fire scheduled functions this often instead of the template's rate (0: never)",
    )
    p.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter; DatabaseUrl, RedisUrl, RedisPrefix and ApiKeys default to "
        "DATABASE_URL, REDIS_URL, TASKENGINE_REDIS_PREFIX and TASKENGINE_API_KEYS",
    )
    p.add_argument("--record", type=Path, help="append every invocation to this JSONL file")
    p.add_argument(
        "--quiet", action="store_true", help="do not echo the functions' output (benchmarks)"
    )
