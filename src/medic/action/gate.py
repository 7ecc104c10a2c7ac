"""The approval gate: pure checks that a decision, and the plan it decides, are admissible.

A decision binds to the hash of the exact plan a human saw. Deciding on a stale hash,
deciding twice, or deciding an incident that is not waiting for a decision is refused;
so is any plan whose actions reach outside the incident's scope.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from medic.domain import (
    Action,
    ActionKind,
    Approval,
    ConflictError,
    Incident,
    IncidentState,
    NotFoundError,
    PermanentError,
    Plan,
    ServiceInfo,
    ServiceKind,
)

__all__ = ["check_action_scope", "check_decision", "check_scope"]

_SHORT = 12


def check_decision(
    plan: Plan | None,
    incident: Incident,
    plan_hash: str,
    prior: Sequence[Approval],
) -> None:
    """Raise unless a decision on `plan_hash` may be recorded for `incident` now.

    NotFoundError: the incident has no plan. ConflictError: the hash is not the current
    plan's, the plan was already decided (approved, rejected or expired), or the
    incident is not awaiting approval.
    """
    if plan is None:
        raise NotFoundError(f"incident {incident.id} has no plan to decide on")
    current = plan.hash
    if plan_hash != current:
        raise ConflictError(
            f"plan hash {plan_hash[:_SHORT]}… is stale; current plan is {current[:_SHORT]}…"
        )
    decided = [a for a in prior if a.incident_id == incident.id and a.plan_hash == current]
    if decided:
        first = decided[0]
        raise ConflictError(
            f"plan {current[:_SHORT]}… was already {first.decision.value} by {first.actor} "
            f"at {first.at.isoformat()}"
        )
    if incident.state is not IncidentState.AWAITING_APPROVAL:
        raise ConflictError(
            f"incident {incident.id} is {incident.state.value}, not awaiting approval"
        )


def check_scope(
    plan: Plan,
    incident: Incident,
    services: Sequence[ServiceInfo],
    scope: Collection[str] | None = None,
) -> None:
    """Raise PermanentError when any action of `plan` targets something it must not.

    Targets must be known services of the incident's namespace (nodes those services
    run on, for node actions), never an external service, and, when `scope` is given
    (the diagnosed services), inside it. Escalations touch nothing and always pass.
    """
    if plan.incident_id != incident.id:
        raise PermanentError(f"plan is for incident {plan.incident_id}, not {incident.id}")
    for action in (*plan.immediate, *plan.long_term):
        check_action_scope(action, incident, services, scope)


def check_action_scope(
    action: Action,
    incident: Incident,
    services: Sequence[ServiceInfo],
    scope: Collection[str] | None,
) -> None:
    """`check_scope` for one action (the executor asks it before each action)."""
    if action.kind is ActionKind.ESCALATE:
        return
    where = f"{action.kind.value} on {action.target!r}"
    if incident.namespace is not None and action.namespace != incident.namespace:
        raise PermanentError(
            f"{where} is in namespace {action.namespace!r}, outside {incident.namespace!r}"
        )
    if action.kind is ActionKind.CORDON_NODE:
        in_scope = [s for s in services if scope is None or s.name in scope]
        if not any(action.target in s.nodes for s in in_scope):
            raise PermanentError(f"{where}: not a node the incident's services run on")
        return
    service = next((s for s in services if s.name == action.target), None)
    if service is None:
        raise PermanentError(f"{where}: not a service of the namespace")
    if service.kind is ServiceKind.EXTERNAL:
        raise PermanentError(f"{where}: an external service is never a remediation target")
    if scope is not None and action.target not in scope:
        raise PermanentError(f"{where}: outside the incident's scope ({', '.join(sorted(scope))})")
