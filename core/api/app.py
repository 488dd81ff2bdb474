"""The API as one function from HttpRequest to HttpResponse: routing, auth, limits,
error shaping, request metrics and access logs. Every adapter calls Api.handle."""

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from core import metrics
from core.api.http import HttpError, HttpRequest, HttpResponse, error_body
from core.api.paths import literal_parts, match_path
from core.api.routes import JobRoutes
from core.config import Settings
from core.errors import ConflictError, NotFoundError, ValidationError
from core.health import Check
from core.logs import get_logger
from core.service import JobService

__all__ = ["Api", "Route"]

log = get_logger()

Handler = Callable[[HttpRequest, dict[str, str]], HttpResponse]
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {placeholders}
    handler: Handler
    open: bool = False  # reachable without an API key

    @property
    def literal_parts(self) -> int:
        return literal_parts(self.path)

    def match(self, path: str) -> dict[str, str] | None:
        return match_path(self.path, path)


class Api:
    def __init__(
        self,
        service: JobService,
        settings: Settings,
        ready: Callable[[], Check],
        render_metrics: Callable[[], tuple[bytes, str]],
        openapi: Callable[[], dict[str, object]],
        group_commit: bool = True,
    ) -> None:
        self.settings = settings
        jobs = JobRoutes(service, settings, group_commit)
        self.routes = [
            Route("POST", "/jobs", jobs.submit),
            Route("POST", "/jobs/batch", jobs.submit_batch),
            Route("GET", "/jobs", jobs.list),
            Route("GET", "/jobs/{id}", jobs.get),
            Route("GET", "/dlq", jobs.dlq),
            Route("POST", "/dlq/redrive", jobs.redrive),
            Route("GET", "/queues", jobs.queues),
            Route("GET", "/healthz", lambda r, p: HttpResponse.json(200, {"status": "ok"}), True),
            Route("GET", "/readyz", lambda r, p: _check(ready()), True),
            Route("GET", "/metrics", lambda r, p: _metrics(render_metrics()), True),
            Route("GET", "/openapi.json", lambda r, p: HttpResponse.json(200, openapi()), True),
        ]
        self._keys = [key.encode() for key in settings.api_keys]
        if not self._keys:
            log.warning("TASKENGINE_API_KEYS is not set: the API accepts every request")

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        route_name = "unmatched"
        try:
            route, params = self._route(request)
            route_name = route.path
            if not route.open:
                self._authorize(request)
            if request.method == "POST":
                self._check_body(request)
            response = route.handler(request, params)
        except HttpError as exc:
            response = exc.response()
        except ValidationError as exc:
            response = HttpResponse.json(400, error_body("bad_request", str(exc)))
        except NotFoundError as exc:
            response = HttpResponse.json(404, error_body("not_found", str(exc)))
        except ConflictError as exc:
            response = HttpResponse.json(409, error_body("conflict", str(exc)))
        except Exception:
            log.exception("request failed", extra={"request_id": request.request_id})
            response = HttpResponse.json(
                500, error_body("internal", "the request failed; see the server logs")
            )
        response.headers["X-Request-Id"] = request.request_id
        self._observe(request, route_name, response, time.perf_counter() - started)
        return response

    def _route(self, request: HttpRequest) -> tuple[Route, dict[str, str]]:
        matches = [(r, p) for r in self.routes if (p := r.match(request.path)) is not None]
        if matches:
            best = max(route.literal_parts for route, _ in matches)
            matches = [(r, p) for r, p in matches if r.literal_parts == best]
        for route, params in matches:
            if route.method == request.method:
                return route, params
        allowed = [route.method for route, _ in matches]
        if allowed:
            raise HttpError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.path}",
                Allow=", ".join(sorted(set(allowed))),
            )
        raise HttpError(404, "not_found", f"no route for {request.method} {request.path}")

    def _authorize(self, request: HttpRequest) -> None:
        if not self._keys:
            return
        given = request.header("X-API-Key")
        bearer = request.header("Authorization") or ""
        if given is None and bearer[:7].lower() == "bearer ":
            given = bearer[7:].strip()
        if given is None or not any(hmac.compare_digest(given.encode(), k) for k in self._keys):
            raise HttpError(
                401,
                "unauthorized",
                "a valid API key is required (Authorization: Bearer KEY or X-API-Key)",
                **{"WWW-Authenticate": "Bearer"},
            )

    def _check_body(self, request: HttpRequest) -> None:
        if len(request.body) > self.settings.max_body_bytes:
            raise HttpError(
                413,
                "payload_too_large",
                f"the body is larger than {self.settings.max_body_bytes} bytes",
            )
        content_type = request.header("Content-Type")
        if request.body and not (content_type and _JSON_TYPE.match(content_type)):
            raise HttpError(
                415,
                "unsupported_media_type",
                f"the body must be application/json, not {content_type or 'untyped'}",
            )

    def _observe(
        self, request: HttpRequest, route: str, response: HttpResponse, seconds: float
    ) -> None:
        status = response.status
        metrics.HTTP_REQUESTS.labels(route, request.method, str(status)).inc()
        metrics.HTTP_DURATION.labels(route, request.method, str(status)).observe(seconds)
        log.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                **response.log_fields,
            },
        )


def _check(check: Check) -> HttpResponse:
    return HttpResponse.json(200 if check.ok else 503, check.to_dict())


def _metrics(rendered: tuple[bytes, str]) -> HttpResponse:
    body, content_type = rendered
    return HttpResponse(200, body, {"Content-Type": content_type})
