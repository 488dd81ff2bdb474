"""The `taskengine` command line, run as a shell user would, on real services."""

import json
import uuid
from typing import Any

import pytest

from core.config import Settings
from core.pgstore import PgStore
from tests.support.build import close, processor_for
from tests.support.cli import Result, run_cli
from tests.support.drive import process_until_terminal

pytestmark = pytest.mark.acceptance


def count_jobs(database_url: str) -> int:
    store = PgStore(database_url)
    try:
        return int(store.conn.run("SELECT count(*) FROM jobs")[0][0])
    finally:
        store.close()


def assert_clean_error(result: Result, code: int, *words: str) -> None:
    assert result.code == code, result
    assert result.stdout == ""
    assert result.stderr.startswith("taskengine: error: ") or "usage:" in result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_submit_from_argument_and_stdin(worker_env: dict[str, str]) -> None:
    job = run_cli(worker_env, "submit", '{"type": "echo", "n": 1}').json
    assert (job["status"], job["payload"], job["queue"]) == (
        "queued",
        {"type": "echo", "n": 1},
        "default",
    )
    piped = run_cli(worker_env, "submit", stdin='{"type": "noop"}').json
    dashed = run_cli(worker_env, "submit", "-", stdin='{"type": "noop"}').json
    assert piped["id"] != dashed["id"]
    full = run_cli(
        worker_env,
        "submit",
        "--queue",
        "q2",
        "--max-attempts",
        "2",
        "--delay",
        "30",
        '{"type": "noop"}',
    ).json
    assert (full["queue"], full["max_attempts"]) == ("q2", 2)
    assert full["run_at"] > full["created_at"]
    shown = run_cli(worker_env, "get", job["id"])
    assert shown.code == 0 and shown.json["id"] == job["id"]


def test_idempotency_key(worker_env: dict[str, str], database_url: str) -> None:
    first = run_cli(worker_env, "submit", "--idempotency-key", "k1", '{"type": "noop"}')
    again = run_cli(worker_env, "submit", "--idempotency-key", "k1", '{"type": "noop"}')
    assert first.code == again.code == 0
    assert first.json["id"] == again.json["id"]
    clash = run_cli(worker_env, "submit", "--idempotency-key", "k1", '{"type": "other"}')
    assert_clean_error(clash, 4, "k1", "different request")
    assert count_jobs(database_url) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "code", "words"),
    [
        (["submit", "{not json"], None, 2, ["not valid JSON"]),
        (["submit", "[1, 2]"], None, 2, ["must be a JSON object", "array"]),
        (["submit", '"text"'], None, 2, ["must be a JSON object", "string"]),
        (["submit", "42"], None, 2, ["must be a JSON object"]),
        (["submit", "{}"], None, 2, ["payload.type"]),
        (["submit", '{"type": 7}'], None, 2, ["payload.type"]),
        (["submit"], "", 2, ["not valid JSON"]),
        (["submit", "--max-attempts", "0", '{"type": "noop"}'], None, 2, ["max_attempts"]),
        (["submit", "--delay", "-1", '{"type": "noop"}'], None, 2, ["delay_seconds"]),
        (["submit", "--queue", "bad queue", '{"type": "noop"}'], None, 2, ["queue"]),
        (["submit", "--max-attempts", "x", '{"type": "noop"}'], None, 2, ["invalid int"]),
        (["get", "not-a-uuid"], None, 2, ["not a UUID"]),
        (["get", "00000000-0000-0000-0000-000000000001"], None, 3, ["not found"]),
        (["jobs", "--status", "bogus"], None, 2, ["status"]),
        (["jobs", "--limit", "0"], None, 2, ["limit"]),
        (["jobs", "--cursor", "garbage"], None, 2, ["cursor"]),
        (["dlq", "redrive"], None, 2, ["--all"]),
        (["dlq", "redrive", "--all", "--queue", "x"], None, 2, ["--all cannot"]),
        (["dlq", "redrive", "--id", "nope"], None, 2, ["not a UUID"]),
        (["dlq"], None, 2, ["SUBCOMMAND"]),
        (["nonsense"], None, 2, ["invalid choice"]),
    ],
)
def test_bad_input_is_refused_cleanly_and_writes_nothing(
    worker_env: dict[str, str],
    database_url: str,
    args: list[str],
    stdin: str | None,
    code: int,
    words: list[str],
) -> None:
    assert_clean_error(run_cli(worker_env, *args, stdin=stdin), code, *words)
    assert count_jobs(database_url) == 0


def test_configuration_errors_name_the_variable(worker_env: dict[str, str]) -> None:
    bad = run_cli({**worker_env, "TASKENGINE_MAX_ATTEMPTS": "abc"}, "submit", '{"type": "noop"}')
    assert_clean_error(bad, 2, "TASKENGINE_MAX_ATTEMPTS")
    no_db = {k: v for k, v in worker_env.items() if k != "DATABASE_URL"}
    assert_clean_error(run_cli(no_db, "jobs"), 2, "DATABASE_URL", "taskengine dev")


def test_listing_pages_and_filters(worker_env: dict[str, str]) -> None:
    ids = {run_cli(worker_env, "submit", '{"type": "noop"}').json["id"] for _ in range(3)}
    run_cli(worker_env, "submit", "--queue", "other", '{"type": "echo"}')
    seen: list[str] = []
    cursor: list[str] = []
    while True:
        page = run_cli(worker_env, "jobs", "--queue", "default", "--limit", "2", *cursor).json
        seen.extend(j["id"] for j in page["jobs"])
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert set(seen) == ids and len(seen) == 3
    echo = run_cli(worker_env, "jobs", "--type", "echo").json["jobs"]
    assert [j["queue"] for j in echo] == ["other"]
    assert run_cli(worker_env, "jobs", "--status", "completed").json == {
        "jobs": [],
        "next_cursor": None,
    }


def _fail_jobs(settings: Settings, env: dict[str, str], queue: str, count: int) -> list[str]:
    ids = [
        run_cli(
            env,
            "submit",
            "--queue",
            queue,
            "--max-attempts",
            "1",
            json.dumps({"type": "demo", "fail": True, "error": f"in {queue}"}),
        ).json["id"]
        for _ in range(count)
    ]
    processor = processor_for(settings)
    process_until_terminal(processor, [uuid.UUID(i) for i in ids], queues=(queue,))
    close(processor)
    return ids


def test_dlq_list_and_redrive(settings: Settings, worker_env: dict[str, str]) -> None:
    in_a = _fail_jobs(settings, worker_env, "a", 2)
    in_b = _fail_jobs(settings, worker_env, "b", 1)
    listed = run_cli(worker_env, "dlq", "list").json["jobs"]
    assert {j["id"] for j in listed} == set(in_a + in_b)
    assert all(j["status"] == "failed" and j["errors"] for j in listed)

    dry = run_cli(worker_env, "dlq", "redrive", "--all", "--dry-run").json
    assert (dry["redriven"], dry["dry_run"]) == (3, True)
    assert len(run_cli(worker_env, "dlq", "list").json["jobs"]) == 3

    by_id = run_cli(worker_env, "dlq", "redrive", "--id", in_a[0]).json
    assert by_id["ids"] == [in_a[0]]
    limited = run_cli(worker_env, "dlq", "redrive", "--queue", "a", "--limit", "5").json
    assert limited["ids"] == [in_a[1]]
    by_type = run_cli(worker_env, "dlq", "redrive", "--type", "demo").json
    assert by_type["ids"] == in_b
    assert run_cli(worker_env, "dlq", "redrive", "--all").json["redriven"] == 0
    job: dict[str, Any] = run_cli(worker_env, "get", in_a[0]).json
    assert (job["status"], job["attempts"], job["attempts_left"]) == ("queued", 1, 1)


def test_queues_reconcile_and_migrate(worker_env: dict[str, str]) -> None:
    run_cli(worker_env, "submit", '{"type": "noop"}')
    run_cli(worker_env, "submit", "--delay", "60", '{"type": "noop"}')
    (row,) = run_cli(worker_env, "queues").json["queues"]
    assert (row["queue"], row["ready"], row["delayed"], row["running"], row["failed"]) == (
        "default",
        1,
        1,
        0,
        0,
    )
    assert row["oldest_ready_age_seconds"] >= 0
    report = run_cli(worker_env, "reconcile").json
    assert report["mode"] in ("full", "steady") and report["reaped"] == 0
    assert run_cli(worker_env, "reconcile", "--full").json["mode"] == "full"
    for _ in range(2):
        migrated = run_cli(worker_env, "migrate")
        assert migrated.code == 0 and migrated.json == {"applied": []}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], ["migrate", "worker", "submit", "dlq", "TASKENGINE_MAX_ATTEMPTS", "exit codes"]),
        (["worker"], ["--concurrency", "--processes", "--queues", "--metrics-port"]),
        (["submit"], ["--queue", "--max-attempts", "--delay", "--idempotency-key"]),
        (["get"], ["id"]),
        (["jobs"], ["--status", "--cursor"]),
        (["dlq", "list"], ["--queue", "--limit"]),
        (["dlq", "redrive"], ["--all", "--id", "--queue", "--type", "--limit", "--dry-run"]),
        (["queues"], ["depth"]),
        (["reconcile"], ["--full"]),
        (["migrate"], ["migrations"]),
        (["dev"], ["--processes", "--concurrency"]),
    ],
)
def test_help_everywhere(worker_env: dict[str, str], args: list[str], words: list[str]) -> None:
    shown = run_cli(worker_env, *args, "--help")
    assert shown.code == 0
    for word in words:
        assert word in shown.stdout, (word, shown.stdout)
