"""A plan for a mode without an executor: every action becomes a hand-over to a human.

Without a cluster to act on (Prometheus-only), medic still proposes: each action the
architect chose becomes an escalation that keeps the exact command a human would run
and says why medic does not run it. Nothing in the resulting plan changes the system.
"""

from __future__ import annotations

from dataclasses import replace

from medic.domain import Action, ActionKind, Plan

__all__ = ["hand_over"]


def _escalation(action: Action, why: str) -> Action:
    if action.kind is ActionKind.ESCALATE:
        return action
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


def hand_over(plan: Plan, why: str) -> Plan:
    """`plan` with every action an escalation carrying its command (`command` kept)."""
    if not plan.acts and all(a.kind is ActionKind.ESCALATE for a in plan.long_term):
        return plan
    return replace(
        plan,
        immediate=tuple(_escalation(a, why) for a in plan.immediate),
        long_term=tuple(_escalation(a, why) for a in plan.long_term),
        rationale=f"{plan.rationale} Handed to a human: {why}.",
    )
