"""Scenario files (BENCHMARK.md §1): pydantic models and loading.

Times are seconds relative to the scenario's "now" (negative = history). The loader
turns every problem into one `InvalidInputError` naming the file, the key path
(`timeline[0].deploy.service`) and what is wrong.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from medic.domain.cluster import ServiceKind
from medic.domain.errors import InvalidInputError
from medic.domain.model import ActionKind, RootCauseCategory
from medic.sandbox.checks import check_scenario
from medic.sandbox.durations import parse_duration

__all__ = [
    "Blip",
    "Commit",
    "ConfigChange",
    "Deploy",
    "Duration",
    "Expect",
    "ExpectedAction",
    "ExpectedRootCause",
    "FaultSpec",
    "LogEvent",
    "Node",
    "Scale",
    "Scenario",
    "Service",
    "TimelineEvent",
    "list_scenarios",
    "load_scenario",
]

Duration = Annotated[float, BeforeValidator(parse_duration)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]

# Defaults per kind for service fields the scenario leaves out.
_KIND_DEFAULTS: dict[str, dict[str, object]] = {
    "service": {"replicas": 2, "memory_mb": 256, "memory_limit_mb": 1024, "latency_ms": 20},
    "database": {"replicas": 1, "memory_mb": 1024, "memory_limit_mb": 4096, "latency_ms": 3},
    "cache": {"replicas": 1, "memory_mb": 512, "memory_limit_mb": 2048, "latency_ms": 1},
    "queue": {"replicas": 1, "memory_mb": 512, "memory_limit_mb": 2048, "latency_ms": 2},
    "external": {"replicas": 1, "memory_mb": 1, "memory_limit_mb": 1, "latency_ms": 60},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Node(_Model):
    name: Name
    cpu_cores: float = Field(8.0, gt=0)
    memory_gb: float = Field(32.0, gt=0)


class Service(_Model):
    name: Name
    kind: ServiceKind = ServiceKind.SERVICE
    entry_rps: float = Field(0.0, ge=0)  # external traffic entering here
    calls: tuple[str, ...] = ()
    replicas: int = Field(ge=1)
    version: str = "v1.0.0"
    memory_mb: float = Field(gt=0)  # steady-state working set per pod
    memory_limit_mb: float = Field(gt=0)
    latency_ms: float = Field(ge=0)  # own processing time (median)
    cpu_ms_per_request: float = Field(2.0, ge=0)
    cpu_limit_cores: float = Field(1.0, gt=0)  # per pod; past it the container is throttled
    error_ratio: float = Field(0.001, ge=0, le=1)  # background 5xx ratio

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kind = str(data.get("kind", "service"))
            return {**_KIND_DEFAULTS.get(kind, _KIND_DEFAULTS["service"]), **data}
        return data


class Commit(_Model):
    sha: str = Field(pattern=r"^[0-9a-f]{7,40}$")
    message: str = ""
    author: str = ""


class FaultSpec(_Model):
    """`{type, target?, params?}`; parameters may also be written inline."""

    type: str
    target: str | None = None
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _inline_params(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        params = dict(data.get("params") or {})
        params.update({k: v for k, v in data.items() if k not in ("type", "target", "params")})
        head = {k: v for k, v in data.items() if k in ("type", "target")}
        return {**head, "params": params}


class Deploy(_Model):
    service: str
    version: str
    commit: Commit | None = None
    fault: FaultSpec | None = None


class ConfigChange(_Model):
    service: str
    key: str
    value: Annotated[str, BeforeValidator(lambda v: v if isinstance(v, str) else str(v))]
    fault: FaultSpec | None = None


class Scale(_Model):
    service: str
    replicas: int = Field(ge=0)


class Blip(_Model):
    """A short, harmless spike: latency x `factor` and a few errors for `duration`."""

    service: str
    duration: Duration = 120.0
    factor: float = Field(3.0, gt=0)


class LogEvent(_Model):
    """A line the service logs from `at` on, every `every` (one pod writes it).

    For planting text in the logs (e.g. a prompt injection in a security test): the
    line changes nothing else in the simulated world.
    """

    service: str
    message: str = Field(min_length=1, max_length=4000)
    every: Duration = Field(60.0, gt=0)
    level: Literal["debug", "info", "warning", "error"] = "error"


class TimelineEvent(_Model):
    at: Duration
    deploy: Deploy | None = None
    config_change: ConfigChange | None = None
    fault: FaultSpec | None = None
    scale: Scale | None = None
    blip: Blip | None = None
    log: LogEvent | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TimelineEvent:
        given = [k for k in _EVENT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"an event needs exactly one of {', '.join(_EVENT_KINDS)} (got {len(given)})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _EVENT_KINDS if getattr(self, k) is not None)

    @property
    def service(self) -> str | None:
        body = getattr(self, self.kind)
        return body.target if isinstance(body, FaultSpec) else str(body.service)


_EVENT_KINDS = ("deploy", "config_change", "fault", "scale", "blip", "log")


class ExpectedRootCause(_Model):
    service: str
    category: RootCauseCategory
    change: str | None = None
    # An infrastructure cause is a node more than a service: a hypothesis of the right
    # category whose evidence names this node is right whichever service it names.
    node: str | None = None


class ExpectedAction(_Model):
    action: ActionKind
    target: str | None = None


class Expect(_Model):
    root_cause: ExpectedRootCause | None = None
    remediation: ExpectedAction | None = None
    also_acceptable: tuple[ExpectedAction, ...] = ()
    should_act: bool = True
    detect_within: Duration | None = None


class Scenario(_Model):
    name: str
    description: str = ""
    seed: int = 0
    namespace: Name = "default"
    history: Duration = Field(gt=0)
    step: Duration = Field(15.0, gt=0)
    nodes: tuple[Node, ...] = ()
    services: tuple[Service, ...] = Field(min_length=1)
    timeline: tuple[TimelineEvent, ...] = ()
    expect: Expect | None = None

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def has_service(self, name: str) -> bool:
        return any(s.name == name for s in self.services)


def list_scenarios() -> list[str]:
    """Names of the scenarios packaged with medic."""
    folder = resources.files("medic.sandbox") / "scenarios"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(path_or_name: str) -> Scenario:
    """A packaged scenario by name, or a scenario file by path."""
    path = _resolve(path_or_name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot read the scenario: {e}") from e
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{path}: a scenario must be a mapping of keys")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as e:
        raise InvalidInputError(_explain(path, e)) from e
    problems = check_scenario(scenario)
    if problems:
        lines = "\n".join(f"  {key}: {what}" for key, what in problems)
        raise InvalidInputError(f"{path}: invalid scenario:\n{lines}")
    return scenario


def _resolve(path_or_name: str) -> Path:
    candidate = Path(path_or_name)
    looks_like_path = candidate.suffix in (".yaml", ".yml") or "/" in path_or_name
    if looks_like_path or candidate.exists():
        if not candidate.is_file():
            raise InvalidInputError(f"{candidate}: no such scenario file")
        return candidate
    packaged = Path(str(resources.files("medic.sandbox") / "scenarios" / f"{path_or_name}.yaml"))
    if not packaged.is_file():
        known = ", ".join(list_scenarios())
        raise InvalidInputError(f"unknown scenario {path_or_name!r} (packaged: {known})")
    return packaged


def _explain(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = _key_path(item["loc"])
        kind = item["type"]
        if kind == "missing":
            what = "missing key"
        elif kind == "extra_forbidden":
            what = "unknown key"
        else:
            what = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  {key or '(top level)'}: {what}")
    return f"{path}: invalid scenario:\n" + "\n".join(lines)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or part.startswith("function-"):
            continue  # pydantic's validator labels are not keys of the file
        else:
            out += f".{part}" if out else part
    return out
