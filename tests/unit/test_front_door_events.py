"""The front door's REST proxy events read back as the request that was sent."""

import base64

from core.api.apigateway import request_from_event
from lambda_local.front_door import _from_proxy, proxy_event
from lambda_local.template import ApiRoute

ROUTE = ApiRoute("GET", "/jobs/{id}", "GetFunction")


def test_an_http_request_becomes_the_event_core_reads() -> None:
    headers = [("Content-Type", "application/json"), ("X-Request-Id", "r-1"), ("X-Tag", "a")]
    headers.append(("X-Tag", "b"))
    event = proxy_event(
        "POST",
        "/jobs/a%20b?status=queued&limit=2&limit=3",
        headers,
        b'{"x":1}',
        ROUTE,
        {"id": "a%20b"},
        "10.0.0.1",
    )
    assert event["resource"] == "/jobs/{id}"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["multiValueQueryStringParameters"] == {"status": ["queued"], "limit": ["2", "3"]}
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["requestContext"]["stage"] == "Prod"
    request = request_from_event(event)
    assert (request.method, request.path) == ("POST", "/jobs/a b")
    assert request.query == {"status": "queued", "limit": "3"}
    assert request.body == b'{"x":1}'
    assert request.request_id == "r-1"
    assert request.header("x-tag") == "b"


def test_binary_bodies_travel_base64_and_empty_ones_as_null() -> None:
    event = proxy_event("POST", "/jobs", [], b"\xff\x00", ROUTE, {}, "::1")
    assert event["isBase64Encoded"] is True
    assert request_from_event(event).body == b"\xff\x00"
    empty = proxy_event("GET", "/jobs", [], b"", ROUTE, {}, "::1")
    assert (empty["body"], empty["queryStringParameters"], empty["pathParameters"]) == (
        None,
        None,
        None,
    )


def test_a_proxy_answer_becomes_status_headers_and_body() -> None:
    status, headers, body = _from_proxy(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"\x01")
    assert headers == {"Content-Type": "application/json", "Set-Cookie": "a=1, b=2"}
