"""A plan for a mode without an executor: every action becomes a hand-over to a human.

Without a cluster to act on (Prometheus-only), medic still proposes: each action the
architect chose becomes an escalation that keeps the exact command a human would run
and says why medic does not run it. Nothing in the resulting plan changes the system.
When the services are hosts (`hosts` given: each service's machines), the command is
the host-shaped one (`host_commands`), not `kubectl`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from medic.domain import Action, ActionKind, Plan
from medic.remediation.host_commands import host_command

__all__ = ["hand_over"]


def _escalation(
    action: Action,
    why: str,
    hosts: Mapping[str, Sequence[str]] | None,
    fault: str | None,
    service: str | None,
) -> Action:
    if hosts is not None:
        machines = hosts.get(action.target or service or "", ())
        action = replace(action, command=host_command(action, fault, machines))
    if action.kind is ActionKind.ESCALATE:
        if hosts is None or not action.command:
            return action
        return replace(
            action,
            reason=f"{action.reason}. To look at first: {action.command}",
            params={**action.params, "proposed_command": action.command},
        )
    command = action.command or "(no command: see the reason)"
    reason = (
        f"{why}. Proposed {action.kind.value} of {action.target}, for a human to run: "
        f"{command}. Reason: {action.reason}"
    )
    return replace(
        action,
        kind=ActionKind.ESCALATE,
        reason=reason,
        params={"proposed": action.kind.value, "proposed_command": command},
        verification=(),
        undo="",
    )


def hand_over(
    plan: Plan,
    why: str,
    *,
    hosts: Mapping[str, Sequence[str]] | None = None,
    fault: str | None = None,
    service: str | None = None,
) -> Plan:
    """`plan` with every action an escalation carrying its command (`command` kept, or
    with `hosts`, each service's machines, made the host-shaped command for `fault`; an
    action without a target is about the incident's `service`)."""
    only_escalations = not plan.acts and all(a.kind is ActionKind.ESCALATE for a in plan.long_term)
    if only_escalations and hosts is None:
        return plan
    handed = replace(
        plan,
        immediate=tuple(_escalation(a, why, hosts, fault, service) for a in plan.immediate),
        long_term=tuple(_escalation(a, why, hosts, fault, service) for a in plan.long_term),
    )
    if only_escalations:
        return handed
    return replace(handed, rationale=f"{plan.rationale} Handed to a human: {why}.")
