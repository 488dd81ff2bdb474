"""The local runtime reads functions, routes and schedules from template.yaml."""

from pathlib import Path

import pytest

from lambda_local.template import TemplateError, load_template

ROOT = Path(__file__).resolve().parent.parent.parent
URLS = {"DatabaseUrl": "postgresql://db/x", "RedisUrl": "redis://r/0"}


def test_the_project_template_routes_every_api_route_to_its_function() -> None:
    template = load_template(ROOT / "template.yaml", URLS)
    served = {(r.method, r.path): r.function for r in template.routes}
    assert served == {
        ("POST", "/jobs"): "SubmitFunction",
        ("POST", "/jobs/batch"): "SubmitFunction",
        ("GET", "/jobs"): "GetFunction",
        ("GET", "/jobs/{id}"): "GetFunction",
        ("GET", "/queues"): "GetFunction",
        ("GET", "/healthz"): "GetFunction",
        ("GET", "/readyz"): "GetFunction",
        ("GET", "/metrics"): "GetFunction",
        ("GET", "/openapi.json"): "GetFunction",
        ("GET", "/dlq"): "DlqRedriveFunction",
        ("POST", "/dlq/redrive"): "DlqRedriveFunction",
    }


def test_every_route_of_the_container_api_is_in_the_template() -> None:
    from core.api.openapi import openapi_document
    from core.config import load_settings

    template = load_template(ROOT / "template.yaml", URLS)
    paths = openapi_document(load_settings({}))["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert documented == {(r.method, r.path) for r in template.routes}


def test_the_api_router_serves_exactly_the_templates_routes() -> None:
    from core.api.app import Api
    from core.config import load_settings
    from core.service import JobService

    settings = load_settings({})
    service = JobService(None, None, settings)  # type: ignore[arg-type]  # routes only
    api = Api(service, settings, lambda: None, lambda: (b"", ""), dict, group_commit=False)  # type: ignore[arg-type,return-value]
    template = load_template(ROOT / "template.yaml", URLS)
    assert {(r.method, r.path) for r in api.routes} == {(r.method, r.path) for r in template.routes}


def test_functions_get_their_settings_from_parameters_and_conditions() -> None:
    template = load_template(
        ROOT / "template.yaml", {**URLS, "ProcessTimeout": "42", "RedisPrefix": "px"}
    )
    process, submit = template.functions["ProcessFunction"], template.functions["SubmitFunction"]
    assert process.handler == "functions.process.handler"
    assert (process.timeout, process.memory, process.schedules) == (42, 1024, (60,))
    assert process.environment["DATABASE_URL"] == "postgresql://db/x"
    assert process.environment["TASKENGINE_REDIS_PREFIX"] == "px"
    assert submit.environment["TASKENGINE_PROCESS_FUNCTION"] == "ProcessFunction"
    assert submit.timeout == 30
    off = load_template(ROOT / "template.yaml", {**URLS, "NudgeProcess": "false"})
    assert off.functions["SubmitFunction"].environment["TASKENGINE_PROCESS_FUNCTION"] == ""


def test_api_gateway_route_choice() -> None:
    template = load_template(ROOT / "template.yaml", URLS)
    route, params = template.route("GET", "/jobs/abc") or (None, None)
    assert route and route.path == "/jobs/{id}" and params == {"id": "abc"}
    found = template.route("POST", "/jobs/batch")
    assert found and found[0].path == "/jobs/batch"
    assert template.route("GET", "/jobs/batch") is None  # the literal resource wins, no GET on it
    assert template.route("DELETE", "/jobs") is None
    assert template.route("GET", "/nowhere") is None


def test_required_parameters_and_bad_schedules_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="DatabaseUrl has no default"):
        load_template(ROOT / "template.yaml", {})
    bad = tmp_path / "t.yaml"
    bad.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: x.handler\n      Events:\n        S:\n          Type: Schedule\n"
        "          Properties:\n            Schedule: cron(0 12 * * ? *)\n"
    )
    with pytest.raises(TemplateError, match="only rate"):
        load_template(bad, {})
    with pytest.raises(TemplateError, match="No such file"):
        load_template(tmp_path / "missing.yaml", {})
