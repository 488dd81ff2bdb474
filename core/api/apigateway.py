"""API Gateway adapter: a REST API proxy event (payload format 1.0) in, the proxy
integration's response out. The Lambda functions and the local front door use it."""

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from core.api.app import Api
from core.api.http import HttpRequest, HttpResponse
from core.api.wsgi import request_id_from

__all__ = ["handle_proxy_event", "proxy_response", "request_from_event"]


def request_from_event(event: Mapping[str, Any]) -> HttpRequest:
    """The HttpRequest a REST proxy event describes. ``path`` is the resource path
    without the stage; headers keep their last value per name, case folded."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if values:
            headers[name.lower()] = values[-1]
    query = dict(event.get("queryStringParameters") or {})
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        if values:
            query[name] = values[-1]
    body = event.get("body") or ""
    raw = _decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "surrogatepass")
    context = event.get("requestContext") or {}
    return HttpRequest(
        method=str(event.get("httpMethod", "GET")).upper(),
        path=event.get("path") or "/",
        query=query,
        headers=headers,
        body=raw,
        request_id=request_id_from(headers.get("x-request-id") or context.get("requestId")),
    )


def proxy_response(response: HttpResponse) -> dict[str, Any]:
    """The proxy integration's answer: JSON and the Prometheus text are UTF-8 text,
    so the body goes as a string, never base64."""
    return {
        "statusCode": response.status,
        "headers": {**response.headers, "Content-Length": str(len(response.body))},
        "body": response.body.decode("utf-8"),
        "isBase64Encoded": False,
    }


def handle_proxy_event(api: Api, event: Mapping[str, Any]) -> dict[str, Any]:
    return proxy_response(api.handle(request_from_event(event)))


def _decode(body: str) -> bytes:
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        # API Gateway never sends this; a hand-made event gets its text as the body.
        return body.encode("utf-8", "surrogatepass")
