"""Conversions between table rows and domain objects. Nothing here touches a session."""

from __future__ import annotations

from medic.domain.model import (
    Approval,
    ApprovalDecision,
    Execution,
    Incident,
    IncidentState,
    Plan,
    Severity,
    Signal,
    TimelineEntry,
    Verification,
)
from medic.store.codec import decode, encode
from medic.store.models import (
    ApprovalRow,
    FirstApprovalRow,
    IncidentRow,
    PlanRow,
    RejectedWebhookRow,
    TimelineRow,
    VerificationRow,
)
from medic.store.records import MAX_REJECTED_BODY_BYTES, RejectedWebhook

__all__ = [
    "approval_row",
    "first_approval_row",
    "to_first_approval",
    "body_text",
    "execution_row",
    "incident_row",
    "plan_row",
    "rejected_of",
    "signal_row",
    "storable_text",
    "timeline_entry",
    "timeline_row",
    "to_approval",
    "to_incident",
    "verification_row",
]


def signal_row(signal_id: str, signal: Signal, raw: str | None) -> dict[str, object]:
    return {
        "id": signal_id,
        "dedup_key": signal.dedup_key,
        "source": signal.source.value,
        "fingerprint": signal.fingerprint,
        "name": signal.name,
        "service": signal.service,
        "namespace": signal.namespace,
        "severity": signal.severity.value,
        "firing": signal.firing,
        "starts_at": signal.starts_at,
        "ends_at": signal.ends_at,
        "body": encode(signal),
        "raw": raw,
    }


def incident_row(incident: Incident) -> dict[str, object]:
    return {
        "id": incident.id,
        "title": incident.title,
        "state": incident.state.value,
        "opened_at": incident.opened_at,
        "updated_at": incident.updated_at,
        "group_key": incident.group_key,
        "service": incident.service,
        "namespace": incident.namespace,
        "severity": incident.severity.value,
    }


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        title=row.title,
        state=IncidentState(row.state),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        group_key=row.group_key,
        service=row.service,
        namespace=row.namespace,
        severity=Severity(row.severity),
    )


def timeline_row(incident_id: str, entry: TimelineEntry, key: str | None) -> dict[str, object]:
    return {
        "incident_id": incident_id,
        "key": key,
        "at": entry.at,
        "kind": entry.kind,
        "message": entry.message,
        "actor": entry.actor,
        "data": encode(entry.data),
    }


def timeline_entry(row: TimelineRow) -> TimelineEntry:
    data = row.data if isinstance(row.data, dict) else {}
    return decode(
        TimelineEntry,
        {
            "at": row.at.isoformat(),
            "kind": row.kind,
            "message": row.message,
            "actor": row.actor,
            "data": data,
        },
    )


def plan_row(plan: Plan) -> PlanRow:
    return PlanRow(incident_id=plan.incident_id, plan_hash=plan.hash, body=encode(plan))


def approval_row(approval: Approval) -> dict[str, object]:
    return {
        "incident_id": approval.incident_id,
        "plan_hash": approval.plan_hash,
        "decision": approval.decision.value,
        "actor": approval.actor,
        "at": approval.at,
        "channel": approval.channel,
        "reason": approval.reason,
    }


def to_approval(row: ApprovalRow) -> Approval:
    return Approval(
        incident_id=row.incident_id,
        plan_hash=row.plan_hash,
        decision=ApprovalDecision(row.decision),
        actor=row.actor,
        at=row.at,
        channel=row.channel,
        reason=row.reason,
    )


def first_approval_row(approval: Approval) -> dict[str, object]:
    row = approval_row(approval)
    del row["decision"]
    return row


def to_first_approval(row: FirstApprovalRow) -> Approval:
    return Approval(
        incident_id=row.incident_id,
        plan_hash=row.plan_hash,
        decision=ApprovalDecision.PENDING,
        actor=row.actor,
        at=row.at,
        channel=row.channel,
        reason=row.reason,
    )


def execution_row(incident_id: str, execution: Execution) -> dict[str, object]:
    return {
        "incident_id": incident_id,
        "idempotency_key": execution.idempotency_key,
        "action_kind": execution.action.kind.value,
        "target": execution.action.target,
        "status": execution.status.value,
        "started_at": execution.started_at,
        "finished_at": execution.finished_at,
        "body": encode(execution),
    }


def verification_row(incident_id: str, verification: Verification) -> VerificationRow:
    return VerificationRow(
        incident_id=incident_id,
        outcome=verification.outcome.value,
        checked_at=verification.checked_at,
        body=encode(verification),
    )


def body_text(body: bytes) -> str:
    """At most MAX_REJECTED_BODY_BYTES of `body` as text; bad UTF-8 and NUL characters
    (which PostgreSQL's text cannot hold) are replaced."""
    text = body[:MAX_REJECTED_BODY_BYTES].decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")


def storable_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, its NULs and lone surrogates escaped: any
    reason, whatever the sender put in it, can be stored on SQLite and PostgreSQL."""
    cut = text[:limit].encode("utf-8", errors="backslashreplace").decode("utf-8")
    return cut.replace("\x00", "\\x00")


def rejected_of(row: RejectedWebhookRow) -> RejectedWebhook:
    return RejectedWebhook(
        id=row.id, source=row.source, reason=row.reason, body=row.body, at=row.at
    )
