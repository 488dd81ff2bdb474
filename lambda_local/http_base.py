"""What the front door and the Invoke API share: a threaded HTTP/1.1 server with
keep-alive that holds the runtime, and a handler that reads bodies and answers."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lambda_local.runtime import LocalLambda

__all__ = ["Handler", "RuntimeServer"]

_HOP_BY_HOP = {"content-length", "connection", "transfer-encoding"}


class RuntimeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, host: str, port: int, runtime: LocalLambda, handler: type["Handler"]
    ) -> None:
        self.runtime = runtime
        super().__init__((host, port), handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: RuntimeServer

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, headers: dict[str, Any], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the runtime records every invocation; the functions log every request
