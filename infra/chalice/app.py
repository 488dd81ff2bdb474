"""The HTTP API as a Chalice app: every route of the shared Api (core.api), each
answered by Api.handle, so validation, errors and job shapes are those of
`taskengine api` and the Lambda functions.

Chalice would answer a wrong method (405) and a non-JSON body (415) in its own
words; every path therefore takes every method and any content type, and the
shared Api decides. A path the Api does not know gets Chalice's (and API
Gateway's) 403 "Missing Authentication Token".

    chalice --project-dir infra/chalice local --port 8000 --no-autoreload
"""

import functools
from typing import Any

from chalice.app import Chalice, MultiDict, Response

from core.api.app import Api
from core.api.build import build_api
from core.api.http import HttpRequest
from core.api.openapi import openapi_document
from core.api.wsgi import request_id_from
from core.config import load_settings

app = Chalice(app_name="task-engine")

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@functools.cache
def _api() -> Api:
    # Built on the first request, from the environment; one request at a time.
    return build_api(load_settings(), group_commit=False)


def _view(template: str) -> Any:
    def view(**params: str) -> Response:
        current = app.current_request
        assert current is not None  # Chalice sets it before calling a view
        path = template
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        query = current.query_params or MultiDict({})
        headers = {name.lower(): value for name, value in current.headers.items()}
        context = current.context or {}
        response = _api().handle(
            HttpRequest(
                method=current.method.upper(),
                path=path,
                query={name: query.getlist(name)[-1] for name in query},
                headers=headers,
                body=_bytes(current.raw_body),
                request_id=request_id_from(headers.get("x-request-id") or context.get("requestId")),
            )
        )
        return Response(
            body=response.body.decode("utf-8"),
            status_code=response.status,
            headers=dict(response.headers),
        )

    view.__name__ = "route_" + "".join(c if c.isalnum() else "_" for c in template)
    return view


def _bytes(body: str | bytes | None) -> bytes:
    return body.encode() if isinstance(body, str) else body or b""


for _template in sorted(openapi_document(load_settings({}))["paths"]):
    app.route(_template, methods=_METHODS, content_types=["*/*"])(_view(_template))
