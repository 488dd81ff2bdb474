"""Framework-independent HTTP request and response values, and the error shape."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["HttpError", "HttpRequest", "HttpResponse", "error_body"]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""
    request_id: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str]
    # Extra fields for the request's one access-log line (job id, queue, ...): one
    # line per request, since logging is a fifth of a single submit's CPU.
    log_fields: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def logged(self, **fields: Any) -> "HttpResponse":
        return replace(self, log_fields={**self.log_fields, **fields})

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> "HttpResponse":
        return cls(
            status,
            json.dumps(value, separators=(",", ":")).encode(),
            {"Content-Type": "application/json", **headers},
        )


class HttpError(Exception):
    """A 4xx answer: ``code`` is the stable machine-readable name."""

    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def response(self) -> HttpResponse:
        return HttpResponse.json(self.status, error_body(self.code, self.message), **self.headers)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
