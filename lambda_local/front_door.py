"""API Gateway in front of the local functions: an HTTP request becomes a REST API
proxy event (payload format 1.0), routed by the template's `Api` events, and the
function's proxy answer becomes the HTTP response.

As on AWS: a path or method the template does not route answers 403 "Missing
Authentication Token", and a function that fails or answers malformed JSON
gives 502 "Internal server error".
"""

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lambda_local.http_base import Handler, RuntimeServer
from lambda_local.runtime import LocalLambda
from lambda_local.template import ApiRoute

__all__ = ["FrontDoor", "proxy_event"]

STAGE = "Prod"
_JSON = {"Content-Type": "application/json"}
_NO_ROUTE_HEADERS = {**_JSON, "x-amzn-ErrorType": "MissingAuthenticationTokenException"}


def proxy_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route: ApiRoute,
    params: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    parts = urlsplit(target)
    path = unquote(parts.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    text, encoded = _body(body)
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {k: unquote(v) for k, v in params.items()} or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": dict(headers).get("User-Agent")},
            "apiId": "local",
            "accountId": "123456789012",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


class FrontDoor(RuntimeServer):
    def __init__(self, host: str, port: int, runtime: LocalLambda) -> None:
        super().__init__(host, port, runtime, _Handler)


class _Handler(Handler):
    def _serve(self) -> None:
        body = self.read_body()
        runtime = self.server.runtime
        found = runtime.template.route(self.command, unquote(urlsplit(self.path).path))
        if found is None:
            return self.answer(
                403, _NO_ROUTE_HEADERS, b'{"message":"Missing Authentication Token"}'
            )
        route, params = found
        headers = list(self.headers.items())
        event = proxy_event(
            self.command, self.path, headers, body, route, params, self.client_address[0]
        )
        try:
            result = runtime.invoke(route.function, json.dumps(event).encode())
            answer = None if result.error else json.loads(result.payload)
            self.answer(*_from_proxy(answer))
        except Exception:  # the function failed, or answered what API Gateway rejects
            self.answer(502, _JSON, b'{"message": "Internal server error"}')

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


def _from_proxy(answer: Any) -> tuple[int, dict[str, str], bytes]:
    """A proxy integration's answer as status, headers and body bytes."""
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
        raise ValueError("malformed Lambda proxy response")
    headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    return answer["statusCode"], headers, raw
