"""Lambda's Invoke API on a local port, so that
``boto3.client("lambda", endpoint_url=...)`` works against the local runtime:
``POST /2015-03-31/functions/{name}/invocations`` with X-Amz-Invocation-Type
RequestResponse (the default), Event (202, run later) or DryRun (204).
``GET /stats`` (not an AWS route) reports cold starts and durations."""

import json
import re
from urllib.parse import unquote

from lambda_local.http_base import Handler, RuntimeServer
from lambda_local.runtime import LocalLambda, UnknownFunction

__all__ = ["InvokeApi"]

_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")


class InvokeApi(RuntimeServer):
    def __init__(self, host: str, port: int, runtime: LocalLambda) -> None:
        super().__init__(host, port, runtime, _Handler)


class _Handler(Handler):
    def do_POST(self) -> None:
        payload = self.read_body() or b"{}"
        match = _INVOKE.match(self.path.split("?", 1)[0])
        if not match:
            return self._error(404, "UnknownOperationException", f"no route {self.path}")
        runtime = self.server.runtime
        try:
            name = runtime.function_name(unquote(match.group(1)))
        except UnknownFunction:
            return self._error(
                404, "ResourceNotFoundException", f"Function not found: {match.group(1)}"
            )
        try:
            json.loads(payload)
        except ValueError:
            return self._error(400, "InvalidRequestContentException", "payload is not JSON")
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            return self.answer(204, {}, b"")
        if kind == "Event":
            runtime.invoke_async(name, payload)
            return self.answer(202, {}, b"")
        if kind != "RequestResponse":
            return self._error(400, "InvalidParameterValueException", f"invocation type {kind}")
        result = runtime.invoke(name, payload)
        headers = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if result.error:
            headers["X-Amz-Function-Error"] = result.error
        self.answer(200, headers, result.payload)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/stats":
            body = json.dumps(self.server.runtime.stats()).encode()
            return self.answer(200, {"Content-Type": "application/json"}, body)
        self._error(404, "UnknownOperationException", f"no route {self.path}")

    def _error(self, status: int, kind: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message}).encode()
        # botocore reads the error code from this header (rest-json protocol).
        self.answer(status, {"Content-Type": "application/json", "x-amzn-ErrorType": kind}, body)
