"""Turning untrusted input into requests: one implementation for the CLI, HTTP and Lambda.

Every function raises ValidationError with a message a user can act on; none
touches storage, so a rejected request writes nothing.
"""

import base64
import binascii
import json
import math
import uuid
from datetime import datetime
from typing import Any

from core.config import Settings
from core.errors import ValidationError
from core.model import NewJob
from core.status import JobStatus

__all__ = [
    "decode_cursor",
    "encode_cursor",
    "parse_filter",
    "parse_job_id",
    "parse_json_object",
    "parse_limit",
    "parse_new_job",
    "parse_status",
]

_SUBMIT_FIELDS = {"payload", "queue", "max_attempts", "delay_seconds", "idempotency_key"}
MAX_NAME_LENGTH = 200
MAX_KEY_LENGTH = 500


def parse_json_object(text: str | bytes, what: str = "body") -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object, not {_json_kind(value)}")
    return value


def parse_job_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except (ValueError, AttributeError, TypeError):
        raise ValidationError(f"job id {raw!r} is not a UUID") from None


def parse_status(raw: str | None) -> JobStatus | None:
    if raw is None:
        return None
    try:
        return JobStatus(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise ValidationError(f"status {raw!r} is not one of {allowed}") from None


def parse_limit(raw: Any, default: int, maximum: int, what: str = "limit") -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be an integer, got {raw!r}") from None
    if isinstance(raw, bool | float) or not 1 <= value <= maximum:
        raise ValidationError(f"{what} must be an integer from 1 to {maximum}, got {raw!r}")
    return value


def parse_new_job(
    item: Any,
    settings: Settings,
    idempotency_key: str | None = None,
    request_id: str | None = None,
) -> NewJob:
    """Validate one submit item: ``{"payload": {"type": ...}, "queue"?, ...}``.
    ``request_id`` is the submitting HTTP request's, kept with the job for its logs."""
    if not isinstance(item, dict):
        raise ValidationError(f"a job must be a JSON object, not {_json_kind(item)}")
    unknown = sorted(set(item) - _SUBMIT_FIELDS)
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_SUBMIT_FIELDS))}"
        )
    nulls = sorted(name for name, value in item.items() if value is None and name != "payload")
    if nulls:
        raise ValidationError(f"{', '.join(nulls)} must not be null (leave them out)")
    payload = item.get("payload")
    if not isinstance(payload, dict):
        raise ValidationError(f"payload must be a JSON object, not {_json_kind(payload)}")
    job_type = payload.get("type")
    if not isinstance(job_type, str) or not job_type.strip():
        raise ValidationError('payload.type must be a non-empty string, e.g. {"type": "noop"}')
    _storable(json.dumps(payload, ensure_ascii=False), "payload")
    key = _parse_key(item.get("idempotency_key"), idempotency_key)
    return NewJob(
        id=uuid.uuid4(),
        queue=_parse_queue(item.get("queue"), settings.default_queue),
        type=_bounded_name(job_type, "payload.type"),
        payload=payload,
        max_attempts=_parse_max_attempts(item.get("max_attempts"), settings.max_attempts),
        delay_seconds=_parse_delay(item.get("delay_seconds"), settings.max_delay_seconds),
        idempotency_key=key,
        request_id=request_id,
    )


def encode_cursor(created_at: datetime, job_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(job_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, job_id = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        return moment, uuid.UUID(job_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(f"cursor {cursor!r} is not one this service issued") from None


def parse_filter(raw: str | None, what: str) -> str | None:
    """A queue or type name to filter by; absent or empty means no filter."""
    if not raw:
        return None
    _storable(raw, what)
    return raw


def _storable(text: str, what: str) -> None:
    """PostgreSQL text and jsonb hold neither NUL nor unpaired UTF-16 surrogates."""
    if "\x00" in text or "\\u0000" in text:
        raise ValidationError(f"{what} must not contain NUL (\\u0000) characters")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValidationError(f"{what} contains an unpaired surrogate (invalid Unicode)") from None


def _parse_key(in_body: Any, in_header: str | None) -> str | None:
    if in_body is not None and not isinstance(in_body, str):
        raise ValidationError("idempotency_key must be a string")
    if in_body is not None and in_header is not None and in_body != in_header:
        raise ValidationError("the Idempotency-Key header and idempotency_key field differ")
    key = in_body if in_body is not None else in_header
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"idempotency key must have 1 to {MAX_KEY_LENGTH} characters")
    if key is not None:
        _storable(key, "idempotency key")
    return key


def _parse_queue(raw: Any, default: str) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or not raw or not all(c.isalnum() or c in "-_." for c in raw):
        raise ValidationError(
            f"queue must be a non-empty string of letters, digits, '-', '_' or '.', got {raw!r}"
        )
    return _bounded_name(raw, "queue")


def _bounded_name(value: str, what: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} is longer than {MAX_NAME_LENGTH} characters")
    return value


def _parse_max_attempts(raw: Any, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 1000:
        raise ValidationError(f"max_attempts must be an integer from 1 to 1000, got {raw!r}")
    return raw


def _parse_delay(raw: Any, maximum: float) -> float:
    if raw is None:
        return 0.0
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | float)
        or not math.isfinite(raw)
        or not 0 <= raw <= maximum
    ):
        raise ValidationError(f"delay_seconds must be a number from 0 to {maximum:g}, got {raw!r}")
    return float(raw)


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in kinds.items():
        if isinstance(value, kind):
            return name
    return "a number"
