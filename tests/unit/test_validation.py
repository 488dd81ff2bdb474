"""Untrusted input becomes a request or a ValidationError that says what is wrong."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from core.config import load_settings
from core.errors import ValidationError
from core.status import JobStatus
from core.validation import (
    decode_cursor,
    encode_cursor,
    parse_filter,
    parse_job_id,
    parse_json_object,
    parse_limit,
    parse_new_job,
    parse_status,
)

SETTINGS = load_settings({})


def test_a_minimal_job_gets_the_defaults() -> None:
    job = parse_new_job({"payload": {"type": "noop"}}, SETTINGS)
    assert (job.queue, job.type, job.max_attempts, job.delay_seconds) == ("default", "noop", 5, 0)
    assert job.idempotency_key is None


def test_every_field() -> None:
    job = parse_new_job(
        {
            "payload": {"type": "echo", "x": [1]},
            "queue": "emails-2",
            "max_attempts": 3,
            "delay_seconds": 1.5,
            "idempotency_key": "k",
        },
        SETTINGS,
    )
    assert (job.queue, job.max_attempts, job.delay_seconds, job.idempotency_key) == (
        "emails-2",
        3,
        1.5,
        "k",
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ([], "must be a JSON object"),
        ({"payload": {"type": "x"}, "priority": 1}, "unknown field"),
        ({}, "payload must be a JSON object, not null"),
        ({"payload": [1]}, "payload must be a JSON object, not an array"),
        ({"payload": "x"}, "payload must be a JSON object, not a string"),
        ({"payload": {}}, "payload.type"),
        ({"payload": {"type": 3}}, "payload.type"),
        ({"payload": {"type": "  "}}, "payload.type"),
        ({"payload": {"type": "x" * 201}}, "longer than"),
        ({"payload": {"type": "x"}, "queue": ""}, "queue"),
        ({"payload": {"type": "x"}, "queue": "a b"}, "queue"),
        ({"payload": {"type": "x"}, "queue": 5}, "queue"),
        ({"payload": {"type": "x"}, "max_attempts": 0}, "max_attempts"),
        ({"payload": {"type": "x"}, "max_attempts": 1001}, "max_attempts"),
        ({"payload": {"type": "x"}, "max_attempts": True}, "max_attempts"),
        ({"payload": {"type": "x"}, "max_attempts": 2.0}, "max_attempts"),
        ({"payload": {"type": "x"}, "delay_seconds": -1}, "delay_seconds"),
        ({"payload": {"type": "x"}, "delay_seconds": 1e12}, "delay_seconds"),
        ({"payload": {"type": "x"}, "delay_seconds": float("nan")}, "delay_seconds"),
        ({"payload": {"type": "x"}, "delay_seconds": "5"}, "delay_seconds"),
        ({"payload": {"type": "x"}, "delay_seconds": False}, "delay_seconds"),
        ({"payload": {"type": "x"}, "idempotency_key": 5}, "idempotency_key"),
        ({"payload": {"type": "x"}, "idempotency_key": ""}, "idempotency key"),
        ({"payload": {"type": "x", "s": "a\u0000b"}}, "NUL"),
    ],
)
def test_bad_items(item: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_new_job(item, SETTINGS)


def test_idempotency_key_from_header_or_body() -> None:
    header = parse_new_job({"payload": {"type": "x"}}, SETTINGS, idempotency_key="h")
    assert header.idempotency_key == "h"
    both = parse_new_job({"payload": {"type": "x"}, "idempotency_key": "h"}, SETTINGS, "h")
    assert both.idempotency_key == "h"
    with pytest.raises(ValidationError, match="differ"):
        parse_new_job({"payload": {"type": "x"}, "idempotency_key": "a"}, SETTINGS, "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1]", "not an array"),
        ('"s"', "not a string"),
        ("3", "not a number"),
        ("null", "not null"),
        (b"\xff", "not valid JSON"),
    ],
)
def test_parse_json_object(text: str | bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_json_object(text)
    assert parse_json_object('{"a": 1}') == {"a": 1}


def test_cursor_round_trip() -> None:
    moment, job_id = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(moment, job_id)) == (moment, job_id)
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["garbage", "", "W10", "WyJ4IiwgInkiXQ", "!!!"])
def test_garbage_cursors(cursor: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        decode_cursor(cursor)


def test_job_ids_status_and_limits() -> None:
    job_id = uuid.uuid4()
    assert parse_job_id(str(job_id)) == job_id
    with pytest.raises(ValidationError, match="not a UUID"):
        parse_job_id("not-a-uuid")
    assert parse_status("failed") is JobStatus.FAILED
    assert parse_status(None) is None
    with pytest.raises(ValidationError, match="queued, running, completed, failed"):
        parse_status("done")
    assert parse_limit(None, 50, 1000) == 50
    assert parse_limit("20", 50, 1000) == 20
    for bad in ("0", "1001", "x", 2.5, True):
        with pytest.raises(ValidationError, match="limit"):
            parse_limit(bad, 50, 1000)


@pytest.mark.parametrize("name", ["queue", "max_attempts", "delay_seconds", "idempotency_key"])
def test_explicit_nulls_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match=f"{name} must not be null"):
        parse_new_job({"payload": {"type": "x"}, name: None}, SETTINGS)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"payload": {"type": "x", "s": "\udc6b"}}, "unpaired surrogate"),
        ({"payload": {"type": "x"}, "idempotency_key": "a\u0000"}, "NUL"),
        ({"payload": {"type": "x"}, "idempotency_key": "\ud9e4"}, "unpaired surrogate"),
    ],
)
def test_text_postgresql_cannot_store_is_refused(item: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_new_job(item, SETTINGS)


def test_filters() -> None:
    assert parse_filter(None, "queue") is None
    assert parse_filter("", "queue") is None
    assert parse_filter("emails", "queue") == "emails"
    with pytest.raises(ValidationError, match="NUL"):
        parse_filter("a\u0000", "queue")
