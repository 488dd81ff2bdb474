"""What the CLI talks to: the engine directly (PostgreSQL and Redis) or the HTTP API.

Both answer with the same JSON shapes; validation happens in the engine either
way (locally here, or by the server behind the client).
"""

from typing import Any, Protocol

from core.client import Client
from core.config import Settings
from core.service import JobService
from core.status import JobStatus
from core.store import ListFilter, RedriveFilter
from core.validation import (
    decode_cursor,
    parse_filter,
    parse_job_id,
    parse_limit,
    parse_new_job,
    parse_status,
)

__all__ = ["Backend", "open_backend"]


class Backend(Protocol):
    def submit(self, item: dict[str, Any]) -> dict[str, Any]: ...

    def get(self, job_id: str) -> dict[str, Any]: ...

    def page(self, filters: dict[str, Any], failed_only: bool) -> dict[str, Any]:
        """``filters``: status, queue, type, limit, cursor (None: absent)."""

    def redrive(self, selection: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        """``selection``: ids, queue, type, limit (None: absent)."""

    def queues(self) -> dict[str, Any]: ...


class LocalBackend:
    def __init__(self, service: JobService) -> None:
        self.service = service

    def submit(self, item: dict[str, Any]) -> dict[str, Any]:
        return self.service.submit(parse_new_job(item, self.service.settings)).to_dict()

    def get(self, job_id: str) -> dict[str, Any]:
        return self.service.get(parse_job_id(job_id)).to_dict()

    def page(self, filters: dict[str, Any], failed_only: bool) -> dict[str, Any]:
        status = JobStatus.FAILED if failed_only else parse_status(filters.get("status"))
        where = ListFilter(
            status=status,
            queue=parse_filter(filters.get("queue"), "queue"),
            type=parse_filter(filters.get("type"), "type"),
            after=decode_cursor(filters.get("cursor")),
            limit=parse_limit(filters.get("limit"), 50, 1000),
        )
        return self.service.list_jobs(where).to_dict()

    def redrive(self, selection: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        ids = selection.get("ids")
        limit = selection.get("limit")
        where = RedriveFilter(
            ids=[parse_job_id(i) for i in ids] if ids is not None else None,
            queue=parse_filter(selection.get("queue"), "queue"),
            type=parse_filter(selection.get("type"), "type"),
            limit=parse_limit(limit, 0, 1_000_000) if limit is not None else None,
        )
        return self.service.redrive(where, dry_run=dry_run).to_dict()

    def queues(self) -> dict[str, Any]:
        return self.service.queue_report()


class RemoteBackend:
    def __init__(self, client: Client) -> None:
        self.client = client

    def submit(self, item: dict[str, Any]) -> dict[str, Any]:
        payload = item.pop("payload")
        return self.client.submit(payload, **item)

    def get(self, job_id: str) -> dict[str, Any]:
        parse_job_id(job_id)  # refuse a malformed id before it becomes part of a URL
        return self.client.get(job_id)

    def page(self, filters: dict[str, Any], failed_only: bool) -> dict[str, Any]:
        if failed_only:
            return self.client.dlq(**{k: v for k, v in filters.items() if k != "status"})
        return self.client.list_jobs(**filters)

    def redrive(self, selection: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        return self.client.redrive(dry_run=dry_run, **selection)

    def queues(self) -> dict[str, Any]:
        return self.client.queues()


def open_backend(settings: Settings) -> Backend:
    if settings.url:
        return RemoteBackend(Client(settings.url, settings.api_key))
    from core.runtime import open_service

    return LocalBackend(open_service(settings))
