"""The open-loop load generator keeps its schedule and counts what it sends."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.open_loop import open_loop


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the generator expects
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status = 201 if self.path == "/ok" else 500
        time.sleep(0.02)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_sends_every_request_on_schedule_and_counts_latency_from_its_due_time() -> None:
    server = _serve()
    try:
        result = open_loop("127.0.0.1", server.server_port, "/ok", b"{}", 200, 1.0, senders=8)
    finally:
        server.shutdown()
    assert result["failures"] == 0
    assert 150 < result["achieved_per_s"] <= 210
    assert result["latency_ms"]["50"] >= 20  # the server's 20 ms is inside every latency


def test_a_stall_counts_against_the_requests_queued_behind_it() -> None:
    # One connection, 20 ms per answer, 100 arrivals a second: each request waits
    # for the ones before it, so lateness grows instead of being hidden.
    server = _serve()
    try:
        result = open_loop("127.0.0.1", server.server_port, "/ok", b"{}", 100, 0.5, senders=1)
    finally:
        server.shutdown()
    assert result["latency_ms"]["max"] > 200


def test_error_answers_are_failures() -> None:
    server = _serve()
    try:
        result = open_loop("127.0.0.1", server.server_port, "/fail", b"{}", 100, 0.2, senders=4)
    finally:
        server.shutdown()
    assert result["failures"] == 20


def test_it_gives_up_on_arrivals_a_slow_server_cannot_take_and_keeps_bodies() -> None:
    # One connection at 20 ms an answer takes 50/s; 200/s for 1 s falls behind, and
    # after 0.3 s the rest is not sent rather than stretching the run.
    server = _serve()
    try:
        result = open_loop(
            "127.0.0.1",
            server.server_port,
            "/ok",
            b"{}",
            200,
            1.0,
            senders=1,
            keep=True,
            give_up_after=0.3,
        )
    finally:
        server.shutdown()
    sent = len(result["bodies"])
    assert result["unsent"] > 100
    assert sent + result["failures"] + result["unsent"] == 200
    assert result["bodies"] == [b"{}"] * sent
    assert len(result["latencies_ms"]) == len(result["sent_at"]) == sent
