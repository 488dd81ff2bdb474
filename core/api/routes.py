"""What each route does: parse the request, call the job service, shape the answer."""

from typing import Any

from core.api.http import HttpError, HttpRequest, HttpResponse
from core.backends import LocalBackend
from core.coalesce import SubmitCoalescer
from core.config import Settings
from core.errors import ValidationError
from core.service import JobService
from core.validation import parse_json_object, parse_new_job

__all__ = ["JobRoutes"]


class JobRoutes:
    """The job routes over one JobService. ``params`` are the path's {placeholders}."""

    def __init__(self, service: JobService, settings: Settings, group_commit: bool = True) -> None:
        self.service = service
        self.settings = settings
        self._engine = LocalBackend(service)  # the reads and redrive the CLI shares
        self._submit_one = SubmitCoalescer(service).submit if group_commit else service.submit

    def submit(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        body = _json_body(request)
        job = parse_new_job(
            body, self.settings, request.header("Idempotency-Key"), request.request_id
        )
        self._admit(1)
        stored = self._submit_one(job)
        return HttpResponse.json(201 if stored.created else 200, stored.to_dict()).logged(
            job_id=str(stored.id), queue=stored.queue, type=stored.type, replayed=not stored.created
        )

    def submit_batch(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        body = _json_body(request)
        if set(body) != {"jobs"}:
            raise ValidationError('body must be {"jobs": [...]} and nothing else')
        items = body.get("jobs")
        if not isinstance(items, list) or not items:
            raise ValidationError('body must be {"jobs": [...]} with at least one job')
        if len(items) > self.settings.max_batch:
            raise ValidationError(
                f"a batch may hold at most {self.settings.max_batch} jobs, got {len(items)}"
            )
        jobs = [_item(i, item, self.settings, request.request_id) for i, item in enumerate(items)]
        self._admit(len(jobs))
        stored = self.service.submit_batch(jobs)
        status = 201 if any(j.created for j in stored) else 200
        return HttpResponse.json(status, {"jobs": [j.to_dict() for j in stored]}).logged(
            jobs=len(stored), jobs_created=sum(j.created for j in stored)
        )

    def get(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        return HttpResponse.json(200, self._engine.get(params["id"]))

    def list(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        return self._page(request, failed_only=False)

    def dlq(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        return self._page(request, failed_only=True)

    def redrive(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        body = _json_body(request, allow_empty=True)
        unknown = sorted(set(body) - {"ids", "queue", "type", "limit", "dry_run"})
        if unknown:
            raise ValidationError(f"unknown field(s) {', '.join(unknown)}")
        nulls = sorted(name for name, value in body.items() if value is None)
        if nulls:
            raise ValidationError(f"{', '.join(nulls)} must not be null (leave them out)")
        ids = body.get("ids")
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)
        ):
            raise ValidationError("ids must be a list of job ids")
        dry_run = body.pop("dry_run", False)
        if not isinstance(dry_run, bool):
            raise ValidationError("dry_run must be true or false")
        for name in ("queue", "type"):
            if name in body and (not isinstance(body[name], str) or not body[name]):
                raise ValidationError(f"{name} must be a non-empty string")
        return HttpResponse.json(200, self._engine.redrive(body, dry_run=dry_run))

    def queues(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        return HttpResponse.json(200, self._engine.queues())

    def _page(self, request: HttpRequest, failed_only: bool) -> HttpResponse:
        query = dict(request.query)
        empty = sorted(name for name, value in query.items() if value == "")
        if empty:
            raise ValidationError(f"query parameter(s) {', '.join(empty)} must not be empty")
        allowed = {"queue", "type", "limit", "cursor"} | (set() if failed_only else {"status"})
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise ValidationError(f"unknown query parameter(s) {', '.join(unknown)}")
        return HttpResponse.json(200, self._engine.page(query, failed_only=failed_only))

    def _admit(self, jobs: int) -> None:
        """Backpressure: refuse new work while the backlog is over its limit."""
        limit = self.settings.max_queue_depth
        if limit is not None and self.service.backlog() + jobs > limit:
            raise HttpError(
                429,
                "too_many_requests",
                f"the queues hold more than {limit} waiting jobs; retry later",
                **{"Retry-After": "1"},
            )


def _json_body(request: HttpRequest, allow_empty: bool = False) -> dict[str, Any]:
    if allow_empty and not request.body.strip():
        return {}
    return parse_json_object(request.body)


def _item(index: int, item: Any, settings: Settings, request_id: str) -> Any:
    try:
        return parse_new_job(item, settings, request_id=request_id)
    except ValidationError as exc:
        raise ValidationError(f"jobs[{index}]: {exc}") from None
