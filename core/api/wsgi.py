"""WSGI adapter: environ in, HttpRequest to Api.handle, HttpResponse out."""

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from core.api.app import Api
from core.api.http import HttpRequest

__all__ = ["request_id_from", "wsgi_app"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def request_id_from(given: str | None) -> str:
    """The caller's X-Request-Id when it is sane, else a fresh one."""
    return given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex


def wsgi_app(api: Api) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    limit = api.settings.max_body_bytes

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        # One byte past the limit is enough to answer 413; the rest is never read.
        body = environ["wsgi.input"].read(min(length, limit + 1)) if length > 0 else b""
        request = HttpRequest(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO") or "/",
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            headers=headers,
            body=body,
            request_id=request_id_from(headers.get("x-request-id")),
        )
        response = api.handle(request)
        reason = _REASONS.get(response.status, "Unknown")
        out_headers = [*response.headers.items(), ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {reason}", out_headers)
        return [response.body]

    return app
