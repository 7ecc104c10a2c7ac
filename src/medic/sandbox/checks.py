"""Checks of a parsed scenario that a schema cannot express: references and times.

Each problem is a (key path, what is wrong) pair, e.g.
("timeline[0].deploy.service", "unknown service 'auth'").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medic.domain.cluster import ServiceKind
from medic.sandbox.durations import format_duration
from medic.sandbox.faults import FaultParamError, NodePressure, TrafficSurge, build_fault
from medic.sandbox.nodes import node_names

if TYPE_CHECKING:
    from medic.sandbox.scenario import FaultSpec, Scenario

__all__ = ["check_scenario"]

Problem = tuple[str, str]


def check_scenario(scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_services(scenario)
    problems += _check_timeline(scenario)
    problems += _check_expect(scenario)
    if scenario.step > scenario.history:
        problems.append(("step", "must not be longer than history"))
    return problems


def _check_services(scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, service in enumerate(scenario.services):
        where = f"services[{i}]"
        if service.name in seen:
            problems.append((f"{where}.name", f"duplicate service {service.name!r}"))
        seen.add(service.name)
        for j, callee in enumerate(service.calls):
            if not scenario.has_service(callee):
                problems.append((f"{where}.calls[{j}]", f"calls undefined service {callee!r}"))
            elif callee == service.name:
                problems.append((f"{where}.calls[{j}]", "a service cannot call itself"))
        if (
            service.kind is not ServiceKind.EXTERNAL
            and service.memory_mb >= service.memory_limit_mb
        ):
            problems.append((f"{where}.memory_mb", "must be below memory_limit_mb"))
    if not problems:
        cycle = _find_cycle(scenario)
        if cycle:
            problems.append(("services", "calls form a cycle: " + " -> ".join(cycle)))
    return problems


def _find_cycle(scenario: Scenario) -> list[str]:
    calls = {s.name: s.calls for s in scenario.services}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> list[str]:
        state[name] = 1
        for callee in calls[name]:
            if state.get(callee) == 1:
                return [*path[path.index(callee) :], callee]
            if callee not in state:
                found = visit(callee, [*path, callee])
                if found:
                    return found
        state[name] = 2
        return []

    for name in calls:
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return []


def _check_timeline(scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    for i, event in enumerate(scenario.timeline):
        where = f"timeline[{i}]"
        if event.at < -scenario.history:
            problems.append(
                (
                    f"{where}.at",
                    f"event at {format_duration(event.at)} is outside the history "
                    f"(-{format_duration(scenario.history)})",
                )
            )
        kind = event.kind
        body = f"{where}.{kind}"
        if kind == "fault":
            assert event.fault is not None
            problems += _check_fault(scenario, event.fault, body, None)
            continue
        service = event.service
        if service is None or not scenario.has_service(service):
            problems.append((f"{body}.service", f"unknown service {service!r}"))
            continue
        if kind in ("deploy", "config_change", "scale", "log") and _is_external(scenario, service):
            problems.append((f"{body}.service", f"{service!r} is external: it has no deployment"))
        fault = event.deploy.fault if event.deploy else None
        fault = event.config_change.fault if event.config_change else fault
        if fault is not None:
            problems += _check_fault(scenario, fault, f"{body}.fault", service)
    return problems


def _check_fault(
    scenario: Scenario, spec: FaultSpec, where: str, host: str | None
) -> list[Problem]:
    """`host`: the deploy's or config change's service; None for a `fault` event."""
    problems: list[Problem] = []
    event = host is None
    dependency = spec.params.get("target")
    if event:
        host = spec.target if spec.target is not None else _text(dependency)
        if host is None and spec.type != "node_pressure":
            problems.append((f"{where}.target", "missing key"))
    elif spec.type == "node_pressure":
        problems.append(
            (f"{where}.type", "node_pressure is not caused by a change: use a fault event")
        )
    for key, name in (("target", spec.target), ("params.target", _text(dependency))):
        if name is not None and not scenario.has_service(name):
            problems.append((f"{where}.{key}", f"unknown service {name!r}"))
    try:
        fault = build_fault(spec.type, spec.params)
    except FaultParamError as e:
        key = "type" if e.key == "type" else f"params.{e.key}"
        problems.append((f"{where}.{key}", str(e)))
        return problems
    if problems:
        return problems
    if isinstance(fault, NodePressure) and fault.node not in node_names(scenario):
        known = ", ".join(node_names(scenario))
        problems.append((f"{where}.params.node", f"unknown node {fault.node!r} (nodes: {known})"))
    callee = _text(dependency) if event else (_text(dependency) or spec.target)
    breaks = spec.type in _CALLED and callee is not None and host is not None
    if breaks and callee != host and callee not in scenario.service(str(host)).calls:
        problems.append(
            (f"{where}.target", f"{host!r} does not call {callee!r}: no calls to break")
        )
    surge = isinstance(fault, TrafficSurge) and host is not None
    if surge and scenario.service(str(host)).entry_rps <= 0:
        problems.append(
            (f"{where}.target", f"{host!r} has no entry_rps: no external traffic to surge")
        )
    return problems


_CALLED = ("dependency_outage", "dependency_latency", "connection_pool_exhaustion")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_external(scenario: Scenario, name: str) -> bool:
    return scenario.service(name).kind is ServiceKind.EXTERNAL


def _check_expect(scenario: Scenario) -> list[Problem]:
    expect = scenario.expect
    if expect is None:
        return []
    problems: list[Problem] = []
    if expect.root_cause and not scenario.has_service(expect.root_cause.service):
        problems.append(
            ("expect.root_cause.service", f"unknown service {expect.root_cause.service!r}")
        )
    actions = [("expect.remediation", expect.remediation)] if expect.remediation else []
    actions += [(f"expect.also_acceptable[{i}]", a) for i, a in enumerate(expect.also_acceptable)]
    for where, action in actions:
        if action.target is None:
            continue
        if action.action == "cordon_node":
            # A cordon targets a node, not a service.
            if action.target not in node_names(scenario):
                problems.append((f"{where}.target", f"unknown node {action.target!r}"))
        elif not scenario.has_service(action.target):
            problems.append((f"{where}.target", f"unknown service {action.target!r}"))
    return problems
