"""An open-loop HTTP load: request i is due at start + i / rate whatever happened
to earlier ones, and its latency is counted from when it was due, not from when
a connection was free (no coordinated omission, unlike wrk's closed loop).

One asyncio thread drives a pool of keep-alive connections, so the generator
takes less of the cores it shares with the server than a thread per connection
would. If every connection is busy when a request falls due, it waits for one,
and that wait is part of its latency.
"""

import asyncio
import statistics
import time
from typing import Any

__all__ = ["open_loop"]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        """Send one request and read its whole response; returns the status."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


def open_loop(
    host: str, port: int, path: str, body: bytes, rate: float, seconds: float, senders: int = 64
) -> dict[str, Any]:
    """POST `body` to `path` at `rate` per second for `seconds`, over at most
    `senders` keep-alive connections; latency percentiles in ms."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    return asyncio.run(_drive(host, port, request, rate, int(rate * seconds), senders))


async def _drive(
    host: str, port: int, request: bytes, rate: float, total: int, senders: int
) -> dict[str, Any]:
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(senders):
        idle.put_nowait(_Connection(*await asyncio.open_connection(host, port)))
    latencies: list[float] = []
    failures = 0

    async def send(connection: _Connection, due: float) -> None:
        nonlocal failures
        try:
            ok = await connection.exchange(request) < 300
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.writer.close()
            connection = _Connection(*await asyncio.open_connection(host, port))
            ok = False
        if ok:
            latencies.append(time.perf_counter() - due)
        else:
            failures += 1
        idle.put_nowait(connection)

    start = time.perf_counter() + 0.1
    in_flight = set()
    for i in range(total):
        due = start + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        connection = await idle.get()
        task = asyncio.create_task(send(connection, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    while in_flight:
        await asyncio.gather(*list(in_flight))
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().writer.close()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate": rate,
        "achieved_per_s": round(len(latencies) / elapsed, 1),
        "failures": failures,
        "latency_ms": {
            "50": round(cuts[49] * 1000, 2),
            "95": round(cuts[94] * 1000, 2),
            "99": round(cuts[98] * 1000, 2),
            "max": round(max(latencies, default=0.0) * 1000, 2),
        },
    }
