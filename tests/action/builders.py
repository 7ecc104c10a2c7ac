"""Domain objects the action tests share."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from medic.action.guard import ExecutionGuard
from medic.domain import (
    Action,
    ActionKind,
    Criterion,
    Incident,
    IncidentState,
    Plan,
    Risk,
    ServiceInfo,
    ServiceKind,
)
from tests.action.fakes import T0

MIB = 1024 * 1024
Scalar = str | int | float | bool | None


def memory_criterion(upper_mb: float = 407.0) -> Criterion:
    return Criterion("memory_working_set_bytes", "auth-service", upper=upper_mb * MIB)


def action(kind: ActionKind = ActionKind.ROLLOUT_UNDO, **params: Scalar) -> Action:
    if kind is ActionKind.ROLLOUT_UNDO and not params:
        params = {"to_revision": 1, "from_version": "v1.2.1", "to_version": "v1.2.0"}
    return Action(
        kind=kind,
        target="auth-service",
        namespace="production",
        risk=Risk.MEDIUM,
        reason="v1.2.1 leaks memory",
        command=f"kubectl {kind.value} deployment/auth-service -n production",
        params=params,
        verification=(memory_criterion(),),
    )


def plan(*immediate: Action, incident_id: str = "inc-1") -> Plan:
    return Plan(
        incident_id=incident_id,
        immediate=immediate or (action(),),
        long_term=(),
        rationale="evidence ev-1, ev-2",
    )


def incident(state: IncidentState = IncidentState.AWAITING_APPROVAL) -> Incident:
    return Incident(
        id="inc-1",
        title="auth-service memory",
        state=state,
        opened_at=T0,
        updated_at=T0,
        group_key="production/auth-service",
        service="auth-service",
        namespace="production",
    )


def services() -> tuple[ServiceInfo, ...]:
    """auth-service (2 replicas, on node-a and node-b) calls users-db; catalog is unrelated."""
    return (
        ServiceInfo(
            "auth-service",
            "production",
            calls=("users-db",),
            replicas=2,
            nodes=("node-a", "node-b"),
        ),
        ServiceInfo("users-db", "production", kind=ServiceKind.DATABASE, nodes=("node-c",)),
        ServiceInfo("catalog", "production", calls=(), replicas=2, nodes=("node-d",)),
        ServiceInfo("stripe", "production", kind=ServiceKind.EXTERNAL),
    )


def guard(**changes: Any) -> ExecutionGuard:
    """The executor's guard for inc-1 about auth-service (users-db in scope too)."""
    base = ExecutionGuard(
        incident=incident(IncidentState.EXECUTING),
        scope=frozenset({"auth-service", "users-db"}),
        services=services(),
        now=T0,
    )
    return replace(base, **changes)
