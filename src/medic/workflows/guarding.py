"""What the executor's guard needs for one incident, read from the store and the cluster
right before an action runs (`action.guard.ExecutionGuard`)."""

from __future__ import annotations

from datetime import timedelta

from medic.action.guard import ExecutionGuard, incident_scope
from medic.domain import ActionKind
from medic.workflows.context import deps

__all__ = ["execution_guard"]


def execution_guard(incident_id: str, undo: bool = False) -> ExecutionGuard:
    """The guard for the next action of `incident_id` (`undo`: putting back medic's own
    action, which no budget stops)."""
    d = deps()
    store = d.store
    incident = store.get_incident(incident_id)
    namespace = incident.namespace or d.namespace
    now = d.clock.now()
    budget = d.policy.document.budget
    policy = d.policy

    def stateful_allowed(ns: str, service: str) -> frozenset[ActionKind]:
        return policy.resolve(ns, service).stateful_actions

    return ExecutionGuard(
        incident=incident,
        scope=incident_scope(incident, store.signals_of(incident_id), store.diagnosis(incident_id)),
        services=tuple(d.cluster.services(namespace)),
        now=now,
        budget=budget,
        executed=tuple(store.executions(incident_id)),
        fleet=tuple(store.control.executions_since(now - timedelta(seconds=budget.fleet.window))),
        stateful_allowed=stateful_allowed,
        undo=undo,
    )
