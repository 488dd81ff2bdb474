"""A Python client of the HTTP API (stdlib only, one keep-alive connection).

    from core.client import Client
    client = Client("http://localhost:8080", api_key=None)
    job = client.submit({"type": "echo", "x": 1})
    done = client.wait(job["id"], timeout=30)

Errors come back as the exceptions the service itself raises: ValidationError
(400), NotFoundError (404), ConflictError (409); others as ApiError.
"""

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from core.errors import ConflictError, NotFoundError, TaskEngineError, ValidationError

__all__ = ["ApiError", "Client"]

_TERMINAL = ("completed", "failed")


class ApiError(TaskEngineError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


_RAISES: dict[int, type[TaskEngineError]] = {
    400: ValidationError,
    404: NotFoundError,
    409: ConflictError,
}


class Client:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"API URL must be http(s)://host[:port], got {url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    # -- jobs -------------------------------------------------------------------

    def submit(
        self,
        payload: dict[str, Any],
        queue: str | None = None,
        max_attempts: int | None = None,
        delay_seconds: float | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body = _without_none(
            payload=payload,
            queue=queue,
            max_attempts=max_attempts,
            delay_seconds=delay_seconds,
            idempotency_key=idempotency_key,
        )
        return dict(self._call("POST", "/jobs", body))

    def submit_batch(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``jobs``: items as POST /jobs takes them ({"payload": ..., "queue"?, ...})."""
        return list(self._call("POST", "/jobs/batch", {"jobs": jobs})["jobs"])

    def get(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/jobs/{job_id}"))

    def wait(self, job_id: str, timeout: float = 60.0, interval: float = 0.2) -> dict[str, Any]:
        """Poll until the job is completed or failed; TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job["status"] in _TERMINAL:
                return job
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(interval)

    def list_jobs(self, **filters: Any) -> dict[str, Any]:
        """A page: filters status, queue, type, limit, cursor."""
        return dict(self._call("GET", "/jobs" + _query(filters)))

    def iter_jobs(self, page_size: int = 1000, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every job the filters select, newest first, following `next_cursor`."""
        cursor = None
        while True:
            page = self.list_jobs(
                limit=page_size, **filters, **({"cursor": cursor} if cursor else {})
            )
            yield from page["jobs"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def dlq(self, **filters: Any) -> dict[str, Any]:
        """A page of failed jobs: filters queue, type, limit, cursor."""
        return dict(self._call("GET", "/dlq" + _query(filters)))

    def redrive(
        self,
        ids: list[str] | None = None,
        queue: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        body = _without_none(ids=ids, queue=queue, type=type, limit=limit, dry_run=dry_run)
        return dict(self._call("POST", "/dlq/redrive", body))

    def queues(self) -> dict[str, Any]:
        return dict(self._call("GET", "/queues"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- transport --------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        status, raw = self._send(method, self._base + path, data, headers)
        value = json.loads(raw) if raw else None
        if status < 400:
            return value
        error = value.get("error", {}) if isinstance(value, dict) else {}
        message = error.get("message") or raw.decode(errors="replace")
        if status in _RAISES:
            raise _RAISES[status](message)
        raise ApiError(status, error.get("code", "error"), message)

    def _send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        reused = self._conn is not None
        try:
            return self._exchange(method, path, data, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            # The server dropped an idle keep-alive connection. Only a read is safe
            # to repeat: a POST may have been applied before the connection broke.
            if not (reused and method == "GET"):
                raise
        return self._exchange(method, path, data, headers)

    def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        conn = self._connection()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            https = self._scheme == "https"
            kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=self._timeout)
        return self._conn


def _without_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _query(filters: dict[str, Any]) -> str:
    present = _without_none(**filters)
    return "?" + urlencode(present) if present else ""
