"""Approval records, inside the repository's transactions: the one decision on a plan,
and the first of the two approvals a high-risk plan needs.

Both are settled by unique constraints (one decision per plan, one first approval per
plan), not by checks two processes could race past: of two approvers at the same
instant, one inserts the first approval and the other finds it and becomes the final.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from medic.domain.audit import AuditDraft, AuditEntry
from medic.domain.errors import ConflictError
from medic.domain.model import Approval, ApprovalDecision
from medic.store import rows
from medic.store.audit import AuditLog
from medic.store.models import ApprovalRow, FirstApprovalRow
from medic.store.statements import insert_ignore

__all__ = ["first_of_two", "record_one", "record_one_of_two"]


def record_one(session: Session, approval: Approval) -> Approval:
    """The plan's one decision: `approval`, or (the very same again) that one;
    ConflictError naming the first if another decision was recorded."""
    if insert_ignore(session, ApprovalRow, rows.approval_row(approval)):
        return approval
    _refuse_if_decided(session, approval)
    return approval


def record_one_of_two(
    session: Session,
    audit: AuditLog,
    approval: Approval,
    first_entry: AuditDraft,
    final_entry: AuditDraft,
    key: str,
) -> tuple[AuditEntry | None, Approval]:
    """`Store.record_approval_of_two` inside its transaction: the audit entry appended
    (None if nothing new was recorded) and the approval as recorded."""
    if insert_ignore(session, FirstApprovalRow, rows.first_approval_row(approval)):
        _refuse_if_decided(session, approval)
        entry = audit.append_in(session, first_entry, f"{key}:first")
        return entry, replace(approval, decision=ApprovalDecision.PENDING)
    earlier = first_of_two(session, approval.incident_id, approval.plan_hash)
    if earlier is None:
        raise ConflictError("the plan's first approval conflicts but cannot be found")
    if earlier == replace(approval, decision=ApprovalDecision.PENDING):
        return None, earlier  # a retry of the first approval
    if earlier.actor == approval.actor:
        raise ConflictError(
            f"{approval.actor!r} already approved this plan at "
            f"{earlier.at.isoformat()}; a second, different approver is required"
        )
    if insert_ignore(session, ApprovalRow, rows.approval_row(approval)):
        return audit.append_in(session, final_entry, key), approval
    _refuse_if_decided(session, approval)
    return None, approval  # a retry of the final approval


def first_of_two(session: Session, incident_id: str, plan_hash: str) -> Approval | None:
    row = session.scalar(
        select(FirstApprovalRow).where(
            FirstApprovalRow.incident_id == incident_id, FirstApprovalRow.plan_hash == plan_hash
        )
    )
    return rows.to_first_approval(row) if row is not None else None


def _refuse_if_decided(session: Session, approval: Approval) -> None:
    """ConflictError naming the plan's decision if another one is recorded (the
    caller's transaction then rolls back)."""
    row = session.scalar(
        select(ApprovalRow).where(
            ApprovalRow.incident_id == approval.incident_id,
            ApprovalRow.plan_hash == approval.plan_hash,
        )
    )
    if row is None:
        return
    first = rows.to_approval(row)
    if first == approval:
        return
    raise ConflictError(
        f"incident {approval.incident_id!r}: plan {approval.plan_hash[:12]} was already "
        f"{first.decision.value} by {first.actor!r} via {first.channel} at "
        f"{first.at.isoformat()}"
    )
