"""Scheduled invocations, as EventBridge fires a function's `Schedule` events:
an asynchronous invocation with a "Scheduled Event" every interval."""

import json
import threading
import uuid
from datetime import UTC, datetime

from lambda_local.runtime import LocalLambda

__all__ = ["Scheduler", "scheduled_event"]


def scheduled_event(rule: str) -> dict[str, object]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "local",
        "resources": [f"arn:aws:events:local:123456789012:rule/{rule}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, runtime: LocalLambda, every: float | None) -> None:
        """``every``: seconds between runs instead of the template's rate (0: off)."""
        self.runtime = runtime
        self._stop = threading.Event()
        for name, spec in runtime.template.functions.items():
            for index, rate in enumerate(spec.schedules):
                interval = rate if every is None else every
                if interval > 0:
                    threading.Thread(
                        target=self._fire,
                        args=(name, f"{name}-schedule-{index}", interval),
                        daemon=True,
                    ).start()

    def _fire(self, name: str, rule: str, interval: float) -> None:
        while not self._stop.wait(interval):
            self.runtime.invoke_async(name, json.dumps(scheduled_event(rule)).encode())

    def stop(self) -> None:
        self._stop.set()
