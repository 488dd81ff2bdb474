"""What the local runtime reads from the SAM template: each function's handler,
timeout, memory and environment, its `Api` events (the HTTP route table: the
template is its single source) and its `Schedule` events.

Intrinsic functions are resolved as far as a local run needs: ``!Ref`` to a
parameter or a function, ``!If`` on a condition made of ``!Equals``/``!Not``/
``!Join``, and ``!Sub`` of parameters. Anything else is an error that names it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.api.paths import literal_parts, match_path
from core.config import ConfigError

__all__ = [
    "ApiRoute",
    "FunctionSpec",
    "Template",
    "TemplateError",
    "cfn_yaml_loader",
    "load_template",
]


class TemplateError(ConfigError):
    """The template holds something the local runtime cannot run."""


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case
    path: str  # with {placeholders}, as in the template
    function: str  # logical id

    def match(self, path: str) -> dict[str, str] | None:
        return match_path(self.path, path)

    @property
    def literal_parts(self) -> int:
        return literal_parts(self.path)


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # logical id, which is also the local function name
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    schedules: tuple[float, ...] = field(default=())  # seconds between scheduled runs


@dataclass(frozen=True)
class Template:
    functions: dict[str, FunctionSpec]
    routes: list[ApiRoute]

    def route(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        """API Gateway's choice: the most specific resource (literal path parts beat
        {placeholders}), then the method on it; None where API Gateway answers 403."""
        fitting = [r for r in self.routes if r.match(path) is not None]
        if not fitting:
            return None
        best = max(r.literal_parts for r in fitting)
        for r in fitting:
            if r.literal_parts == best and r.method == method:
                return r, r.match(path) or {}
        return None


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref x -> {"Ref": x}, !If -> Fn::If)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def cfn_yaml_loader() -> type[yaml.SafeLoader]:
    """A YAML loader for CloudFormation templates (short tags become long-form)."""
    return _Loader


_RATE = re.compile(r"^rate\((\d+)\s+(second|minute|hour|day)s?\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def load_template(path: Path, parameters: Mapping[str, str]) -> Template:
    try:
        doc = yaml.load(path.read_text(), Loader=_Loader)
    except OSError as exc:
        raise TemplateError(f"template {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from None
    resolver = _Resolver(doc, parameters)
    globals_ = (doc.get("Globals") or {}).get("Function") or {}
    functions: dict[str, FunctionSpec] = {}
    routes: list[ApiRoute] = []
    for name, resource in (doc.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **(resource.get("Properties") or {})}
        env = {
            **((globals_.get("Environment") or {}).get("Variables") or {}),
            **(
                ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            ),
        }
        schedules: list[float] = []
        for event in (props.get("Events") or {}).values():
            kind, event_props = event.get("Type"), event.get("Properties") or {}
            if kind == "Api":
                method = str(event_props["Method"]).upper()
                routes.append(ApiRoute(method, str(event_props["Path"]), name))
            elif kind == "Schedule":
                schedules.append(_rate_seconds(str(resolver.value(event_props["Schedule"]))))
        functions[name] = FunctionSpec(
            name=name,
            handler=str(props["Handler"]),
            timeout=int(resolver.value(props.get("Timeout", 3))),
            memory=int(resolver.value(props.get("MemorySize", 128))),
            environment={k: str(resolver.value(v)) for k, v in env.items()},
            schedules=tuple(schedules),
        )
    return Template(functions, routes)


def _variables(props: Mapping[str, Any]) -> dict[str, Any]:
    return dict((props.get("Environment") or {}).get("Variables") or {})


def _rate_seconds(expression: str) -> float:
    match = _RATE.match(expression.strip())
    if not match:
        raise TemplateError(f"schedule {expression!r}: only rate(N unit) runs locally")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class _Resolver:
    def __init__(self, doc: dict[str, Any], given: Mapping[str, str]) -> None:
        self.parameters: dict[str, Any] = {}
        for name, spec in (doc.get("Parameters") or {}).items():
            if name in given:
                self.parameters[name] = given[name]
            elif "Default" in spec:
                self.parameters[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default: give it a value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(self.parameters[name], str):
                raw = self.parameters[name]
                self.parameters[name] = raw.split(",")  # "" -> [""], as CloudFormation has it
        self.conditions = doc.get("Conditions") or {}
        self.resources = doc.get("Resources") or {}

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg in self.parameters:
                return self.parameters[arg]
            if arg in self.resources:
                return arg  # a function's local name is its logical id
            if arg == "AWS::NoValue":
                return None
            raise TemplateError(f"!Ref {arg}: not a parameter or resource")
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.value(when_true if self.condition(name) else when_false)
        if key == "Fn::Sub" and isinstance(arg, str):
            return re.sub(r"\$\{([\w:]+)\}", lambda m: str(self.value({"Ref": m.group(1)})), arg)
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(self.value(p)) for p in self._list(parts))
        raise TemplateError(f"{key} is not supported by the local runtime")

    def _list(self, node: Any) -> list[Any]:
        value = self.value(node)
        return value if isinstance(value, list) else [value]

    def condition(self, name: str) -> bool:
        return self._truth(self.conditions[name])

    def _truth(self, node: Any) -> bool:
        ((key, arg),) = node.items()
        if key == "Fn::Equals":
            return str(self.value(arg[0])) == str(self.value(arg[1]))
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Condition":
            return self.condition(arg)
        raise TemplateError(f"condition {key} is not supported by the local runtime")
