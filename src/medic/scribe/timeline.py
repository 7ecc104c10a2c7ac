"""Timeline entries built from the loop's records, one helper per kind of record.

Messages keep the untrusted parts (alert summaries, execution details) as data; the
post-mortem renders every message inert, so nothing here needs escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from medic.domain import (
    Action,
    Approval,
    Diagnosis,
    Execution,
    Incident,
    Plan,
    Signal,
    TimelineEntry,
    Verification,
)

__all__ = [
    "decided",
    "diagnosed",
    "executed",
    "merged",
    "opened",
    "planned",
    "signalled",
    "verified",
]

_SHORT = 12


def signalled(signal: Signal) -> TimelineEntry:
    state = "firing" if signal.firing else "resolved"
    at = signal.starts_at if signal.firing or signal.ends_at is None else signal.ends_at
    summary = f": {signal.summary}" if signal.summary else ""
    return TimelineEntry(
        at=at,
        kind="signal",
        message=f"{signal.source.value} {signal.name} ({signal.severity.value}) {state}{summary}",
        actor=signal.source.value,
        data={"fingerprint": signal.fingerprint, "service": signal.service},
    )


def opened(incident: Incident) -> TimelineEntry:
    return TimelineEntry(
        at=incident.opened_at,
        kind="incident",
        message=f"incident opened: {incident.title}",
        data={"incident_id": incident.id, "severity": incident.severity.value},
    )


def diagnosed(diagnosis: Diagnosis, at: datetime) -> TimelineEntry:
    top = diagnosis.top
    if top is None:
        message = f"diagnosis: no hypothesis ({diagnosis.summary})"
    else:
        cause = top.root_cause
        change = f" {cause.change}" if cause.change else ""
        message = (
            f"diagnosis: {cause.category.value} of {cause.service}{change} "
            f"(confidence {diagnosis.confidence:.2f}, "
            f"{'conclusive' if diagnosis.conclusive else 'not conclusive'})"
        )
    return TimelineEntry(
        at=at,
        kind="diagnosis",
        message=message,
        data={"confidence": diagnosis.confidence, "hypotheses": len(diagnosis.hypotheses)},
    )


def planned(plan: Plan, at: datetime) -> TimelineEntry:
    message = f"plan {plan.hash[:_SHORT]}: {_names(plan.immediate) or 'nothing'}"
    if plan.long_term:
        message += f"; long-term: {_names(plan.long_term)}"
    return TimelineEntry(at=at, kind="plan", message=message, data={"plan_hash": plan.hash})


def decided(approval: Approval) -> TimelineEntry:
    reason = f": {approval.reason}" if approval.reason else ""
    return TimelineEntry(
        at=approval.at,
        kind="approval",
        message=(
            f"plan {approval.plan_hash[:_SHORT]} {approval.decision.value} "
            f"via {approval.channel}{reason}"
        ),
        actor=approval.actor,
        data={"plan_hash": approval.plan_hash, "decision": approval.decision.value},
    )


def executed(execution: Execution) -> TimelineEntry:
    action = execution.action
    return TimelineEntry(
        at=execution.finished_at,
        kind="execution",
        message=(
            f"{action.kind.value} {action.target}: {execution.status.value}"
            + (f" ({execution.detail})" if execution.detail else "")
        ),
        data={"key": execution.idempotency_key, "status": execution.status.value},
    )


def verified(verification: Verification) -> TimelineEntry:
    return TimelineEntry(
        at=verification.checked_at,
        kind="verification",
        message=f"verification {verification.outcome.value}: {verification.detail}",
        data={"outcome": verification.outcome.value},
    )


def merged(*groups: Iterable[TimelineEntry]) -> tuple[TimelineEntry, ...]:
    """All entries, oldest first (entries at the same instant keep their given order)."""
    return tuple(sorted((e for g in groups for e in g), key=lambda e: e.at))


def _names(actions: Iterable[Action]) -> str:
    return ", ".join(f"{a.kind.value} {a.target}".strip() for a in actions)
