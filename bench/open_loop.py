"""An open-loop HTTP load: request i is due at start + i / rate whatever happened
to earlier ones, and its latency is counted from when it was due, not from when
a connection was free (no coordinated omission, unlike wrk's closed loop).

Many threads with one keep-alive connection each take the next due slot; if all
are busy the slot is late, and that lateness is part of its latency.
"""

import http.client
import itertools
import statistics
import threading
import time
from typing import Any

__all__ = ["open_loop"]


def open_loop(
    host: str, port: int, path: str, body: bytes, rate: float, seconds: float, senders: int = 64
) -> dict[str, Any]:
    total = int(rate * seconds)
    slots = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter() + 0.2

    def send() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection(host, port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while (i := next(slots)) < total:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 300
            except OSError:
                conn.close()
                ok = False
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - due)
                else:
                    failures += 1
        conn.close()

    threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
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
