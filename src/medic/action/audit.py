"""The audit log, pure: entries for each decision and action, chain verification, export.

The store appends (`Store.audit.append`) and keeps the chain's head; everything here is
pure so that the workflow, the CLI and the tests share one definition of "intact".
A chain is intact when its entries are numbered 1, 2, 3, ... without a gap, each
names the previous entry's hash, each hash is what its fields hash to, and the last
entry is the head the store recorded (so a truncated tail is found too).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.domain import Approval, Execution, Plan, Verification
from medic.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    AuditKind,
    chain_hash,
)

__all__ = [
    "ChainReport",
    "approval_entry",
    "entry_key",
    "execution_entry",
    "export_line",
    "plan_entry",
    "policy_entry",
    "verification_entry",
    "verify_chain",
]


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a chain: `broken_seq` is the first entry that fails."""

    checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> ChainReport:
    """Recompute the chain over `entries` (in seq order) and compare with the `head`
    (last seq, last hash) the store recorded; None means nothing was ever appended."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for entry in entries:
        problem = _check(entry, expected_seq, prev_hash)
        if problem:
            # A gap is reported at the first missing entry, anything else where it is.
            return ChainReport(checked, min(entry.seq, expected_seq), problem)
        checked += 1
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    last = (expected_seq - 1, prev_hash)
    if head is None:
        head = (0, GENESIS_HASH)
    if head != last:
        if head[0] > last[0]:
            problem = f"the log ends at entry {last[0]} but entry {head[0]} was appended"
            return ChainReport(checked, last[0] + 1, f"{problem} (entries deleted)")
        return ChainReport(
            checked, head[0] or 1, f"the recorded head (entry {head[0]}) does not match the log"
        )
    return ChainReport(checked)


def _check(entry: AuditEntry, expected_seq: int, prev_hash: str) -> str:
    if entry.seq != expected_seq:
        if entry.seq > expected_seq:
            return f"entry {expected_seq} is missing (deleted); the log jumps to {entry.seq}"
        return f"entry {entry.seq} is out of order (expected {expected_seq})"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry (reordered, or a row was replaced)"
    if chain_hash(prev_hash, entry.seq, entry.draft) != entry.hash:
        return "its fields do not match its hash (edited)"
    return ""


def export_line(entry: AuditEntry) -> str:
    """One JSON line of `medic audit export`."""
    at = entry.at.astimezone(UTC) if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return json.dumps(
        {
            "seq": entry.seq,
            "at": at.isoformat(),
            "actor": entry.actor,
            "kind": entry.kind.value,
            "incident_id": entry.incident_id,
            "plan_hash": entry.plan_hash,
            "outcome": entry.outcome,
            "data": dict(entry.data),
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


# -- entries for the loop's decisions and actions --------------------------------------


def entry_key(kind: AuditKind, incident_id: str, *names: str) -> str:
    """The idempotency key a workflow step appends its entry under (`Store.audit.append`):
    the same for every run of the step, so a step that runs again after a crash or a
    retry does not append a second entry. One per kind, incident and `names` (the plan
    hash; for an action, its idempotency key)."""
    return ":".join((kind.value, incident_id, *names))


def plan_entry(plan: Plan, at: datetime) -> AuditDraft:
    actions = ", ".join(f"{a.kind.value} {a.namespace}/{a.target}" for a in plan.immediate)
    return AuditDraft(
        at=at,
        actor="medic",
        kind=AuditKind.PLAN,
        outcome="proposed",
        incident_id=plan.incident_id,
        plan_hash=plan.hash,
        data={"immediate": actions or "nothing", "long_term": len(plan.long_term)},
    )


def policy_entry(
    incident_id: str, plan_hash: str, at: datetime, allowed: bool, needs_approval: bool, reason: str
) -> AuditDraft:
    if not allowed:
        outcome = "forbidden"
    else:
        outcome = "approval-required" if needs_approval else "auto-approved"
    return AuditDraft(
        at=at,
        actor="policy",
        kind=AuditKind.POLICY,
        outcome=outcome,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={"reason": reason[:500]},
    )


def approval_entry(approval: Approval, outcome: str | None = None) -> AuditDraft:
    """A decision; `outcome` overrides the decision's name (e.g. "first-approval")."""
    return AuditDraft(
        at=approval.at,
        actor=approval.actor,
        kind=AuditKind.APPROVAL,
        outcome=outcome or approval.decision.value,
        incident_id=approval.incident_id,
        plan_hash=approval.plan_hash,
        data={"channel": approval.channel, "reason": approval.reason[:500]},
    )


def execution_entry(
    incident_id: str, plan_hash: str, execution: Execution, *, undo: bool = False
) -> AuditDraft:
    action = execution.action
    return AuditDraft(
        at=execution.finished_at,
        actor="medic",
        kind=AuditKind.UNDO if undo else AuditKind.EXECUTION,
        outcome=execution.status.value,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={
            "action": action.kind.value,
            "namespace": action.namespace,
            "target": action.target,
            "idempotency_key": execution.idempotency_key,
            "detail": execution.detail[:500],
        },
    )


def verification_entry(incident_id: str, plan_hash: str, verification: Verification) -> AuditDraft:
    return AuditDraft(
        at=verification.checked_at,
        actor="medic",
        kind=AuditKind.VERIFICATION,
        outcome=verification.outcome.value,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={"detail": verification.detail[:500]},
    )
