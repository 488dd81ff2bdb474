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
from dataclasses import dataclass, field
from typing import Any

__all__ = ["open_loop"]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its whole response: (status, body)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return status, body


def open_loop(
    host: str,
    port: int,
    path: str,
    body: bytes,
    rate: float,
    seconds: float,
    senders: int = 64,
    keep: bool = False,
    give_up_after: float | None = None,
) -> dict[str, Any]:
    """POST `body` to `path` at `rate` per second for `seconds`, over at most
    `senders` keep-alive connections; latency percentiles in ms. With `keep`, also
    every successful response body ("bodies") and latency in ms ("latencies_ms",
    with "sent_at": when each was due, in seconds from the start). Requests not yet
    sent `give_up_after` seconds after the start are not sent at all ("unsent"), so
    that a server far slower than the rate cannot stretch the run without end."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    total = int(rate * seconds)
    return asyncio.run(_drive(host, port, request, rate, total, senders, keep, give_up_after))


@dataclass
class _Tally:
    keep: bool
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    failures: int = 0

    def record(self, answer: bytes | None, latency: float, due: float) -> None:
        """`answer`: the body of a success, None for a failure."""
        if answer is None:
            self.failures += 1
            return
        self.latencies.append(latency)
        if self.keep:
            self.bodies.append(answer)
            self.sent_at.append(due)


async def _drive(
    host: str,
    port: int,
    request: bytes,
    rate: float,
    total: int,
    senders: int,
    keep: bool,
    give_up_after: float | None,
) -> dict[str, Any]:
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(senders):
        idle.put_nowait(_Connection(*await asyncio.open_connection(host, port)))
    tally = _Tally(keep)

    async def send(connection: _Connection, due: float) -> None:
        answer: bytes | None = None
        try:
            status, body = await connection.exchange(request)
            answer = body if status < 300 else None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.writer.close()
            connection = _Connection(*await asyncio.open_connection(host, port))
        tally.record(answer, time.perf_counter() - due, due - start)
        idle.put_nowait(connection)

    start = time.perf_counter() + 0.1
    stop_at = start + (give_up_after if give_up_after is not None else float("inf"))
    in_flight = set()
    unsent = 0
    for i in range(total):
        due = start + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        connection = await idle.get()
        if time.perf_counter() > stop_at:
            idle.put_nowait(connection)
            unsent = total - i
            break
        task = asyncio.create_task(send(connection, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    while in_flight:
        await asyncio.gather(*list(in_flight))
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().writer.close()
    summary = _summary(tally.latencies, rate, elapsed, tally.failures, unsent)
    if keep:
        summary.update(
            bodies=tally.bodies,
            latencies_ms=[x * 1000 for x in tally.latencies],
            sent_at=tally.sent_at,
        )
    return summary


def _summary(
    latencies: list[float], rate: float, elapsed: float, failures: int, unsent: int
) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate": rate,
        "achieved_per_s": round(len(latencies) / elapsed, 1),
        "failures": failures,
        "unsent": unsent,
        "latency_ms": {
            "50": round(cuts[49] * 1000, 2),
            "95": round(cuts[94] * 1000, 2),
            "99": round(cuts[98] * 1000, 2),
            "max": round(max(latencies, default=0.0) * 1000, 2),
        },
    }
