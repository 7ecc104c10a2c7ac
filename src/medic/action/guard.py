"""The executor's guard: the safety rules checked right before each action runs.

Approval binds a human to a plan; the guard makes sure that, whatever plan reached the
executor (approved, resumed after a crash, or built wrongly), medic still only does:

- a typed catalog action with well-typed parameters;
- on a target inside the incident's scope (`gate.check_action_scope`), never an
  external service, and on a database, cache or queue only when the policy names the
  action in `stateful_actions` for it;
- within the budgets of the policy file (`budget`): per incident, and over the whole
  fleet per rolling window, of actions and of replicas added by scale-outs.

Pure: the caller supplies the incident, its scope, the cluster's services and what
was already executed. A refusal is a reason, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medic.action.gate import check_action_scope
from medic.action.policy_file import Budget
from medic.domain import (
    Action,
    ActionKind,
    Diagnosis,
    Execution,
    ExecutionStatus,
    Incident,
    PermanentError,
    ServiceInfo,
    ServiceKind,
    Signal,
)

__all__ = ["ExecutionGuard", "StatefulAllowed", "added_replicas", "incident_scope"]

# Actions that change nothing in the watched system: never counted, never stateful.
_UNCOUNTED = frozenset({ActionKind.ESCALATE, ActionKind.REVERT_PR})
_STATEFUL = frozenset({ServiceKind.DATABASE, ServiceKind.CACHE, ServiceKind.QUEUE})
# The parameters each catalog action needs, and their types.
_PARAMS: dict[ActionKind, tuple[tuple[str, type], ...]] = {
    ActionKind.ROLLOUT_UNDO: (("to_revision", int),),
    ActionKind.ROLLOUT_RESTART: (),
    ActionKind.SCALE_OUT: (("replicas", int),),
    ActionKind.RAISE_LIMITS: (("limit_mb", int),),
    ActionKind.REVERT_CONFIG: (("key", str),),
    ActionKind.CORDON_NODE: (),
    ActionKind.REVERT_PR: (("service", str), ("good_version", str), ("bad_version", str)),
    ActionKind.ESCALATE: (),
}

StatefulAllowed = Callable[[str, str], frozenset[ActionKind]]
"""(namespace, service) -> the actions the policy allows on that stateful service."""


def _none_allowed(namespace: str, service: str) -> frozenset[ActionKind]:
    return frozenset()


@dataclass(frozen=True)
class ExecutionGuard:
    """What the executor checks an action against. `executed`: this incident's
    executions; `fleet`: every incident's executions since `now - budget.fleet.window`."""

    incident: Incident
    scope: frozenset[str]
    services: tuple[ServiceInfo, ...]
    now: datetime
    budget: Budget = field(default_factory=Budget)
    executed: tuple[Execution, ...] = ()
    fleet: tuple[Execution, ...] = ()
    stateful_allowed: StatefulAllowed = _none_allowed
    undo: bool = False  # putting back what medic did: scope and kind only

    def refusal(self, action: Action, key: str) -> str:
        """Why `action` (idempotency key `key`) must not run now; "" when it may."""
        try:
            _check_typed(action)
            check_action_scope(action, self.incident, self.services, self.scope)
        except PermanentError as e:
            return str(e)
        if action.kind in _UNCOUNTED:
            return ""
        return self._kind_refusal(action) or (
            "" if self.undo else self._budget_refusal(action, key)
        )

    def _kind_refusal(self, action: Action) -> str:
        if action.kind is ActionKind.CORDON_NODE:
            return ""
        service = next((s for s in self.services if s.name == action.target), None)
        if service is None or service.kind not in _STATEFUL:
            return ""
        if action.kind in self.stateful_allowed(action.namespace, action.target):
            return ""
        return (
            f"{action.kind.value} on {action.target!r}: a {service.kind.value} is stateful; "
            "the policy does not allow this action on it (stateful_actions)"
        )

    def _budget_refusal(self, action: Action, key: str) -> str:
        added = added_replicas(action, self.services)
        mine = _spent(self.executed, key, self.services)
        since = self.now - timedelta(seconds=self.budget.fleet.window)
        fleet = _spent([e for e in self.fleet if e.started_at >= since], key, self.services)
        where = f"{action.kind.value} on {action.target!r}"
        for scope, limit, (actions, replicas) in (
            ("this incident's", self.budget.per_incident, mine),
            (f"the fleet's (per {self.budget.fleet.window:g}s)", self.budget.fleet, fleet),
        ):
            if actions + 1 > limit.max_actions:
                return (
                    f"{where}: {scope} budget of {limit.max_actions} action(s) is spent "
                    f"({actions} done)"
                )
            if added and replicas + added > limit.max_added_replicas:
                return (
                    f"{where}: {scope} budget of {limit.max_added_replicas} added replica(s) "
                    f"would be exceeded ({replicas} added, {added} more asked)"
                )
        return ""


def incident_scope(
    incident: Incident, signals: Sequence[Signal], diagnosis: Diagnosis | None
) -> frozenset[str]:
    """The services an incident is about: its own, its signals' and the root causes its
    diagnosis names. Nothing else is medic's to touch for this incident."""
    names = {incident.service, *(s.service for s in signals)}
    if diagnosis is not None:
        names.update(h.root_cause.service for h in diagnosis.hypotheses)
    return frozenset(n for n in names if n)


def added_replicas(action: Action, services: Sequence[ServiceInfo]) -> int:
    """Replicas a scale-out adds over what its target runs (0 for anything else)."""
    if action.kind is not ActionKind.SCALE_OUT:
        return 0
    wanted = action.params.get("replicas")
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return 0
    base = action.params.get("from_replicas")
    if not isinstance(base, int) or isinstance(base, bool):
        current = next((s.replicas for s in services if s.name == action.target), 0)
        base = current
    return max(0, wanted - base)


def _spent(
    executions: Sequence[Execution], key: str, services: Sequence[ServiceInfo]
) -> tuple[int, int]:
    """(actions, added replicas) that count: not this very action re-run after a crash,
    not an idempotent repeat, not a refusal, not one that changes nothing."""
    counted = [
        e
        for e in executions
        if e.idempotency_key != key
        and e.status not in (ExecutionStatus.ALREADY_APPLIED, ExecutionStatus.REFUSED)
        and e.action.kind not in _UNCOUNTED
    ]
    return len(counted), sum(added_replicas(e.action, services) for e in counted)


def _check_typed(action: Action) -> None:
    kind = action.kind
    if not isinstance(kind, ActionKind) or kind not in _PARAMS:
        raise PermanentError(f"{kind!r} is not an action of the typed catalog")
    for name, wanted in _PARAMS[kind]:
        value = action.params.get(name)
        if wanted is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, wanted) or isinstance(value, bool) or value == "":
            raise PermanentError(
                f"{kind.value} on {action.target!r}: param {name} must be a {wanted.__name__}, "
                f"got {value!r}"
            )
    if not action.target and kind is not ActionKind.ESCALATE:
        raise PermanentError(f"{kind.value}: no target")
