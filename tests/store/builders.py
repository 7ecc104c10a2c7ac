"""Domain objects for the store's tests, filled in down to the nested fields."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from medic.domain import (
    Action,
    ActionKind,
    AgentReview,
    AgentStatus,
    Approval,
    ApprovalDecision,
    Change,
    ChangeKind,
    ClusterEvent,
    Commit,
    Criterion,
    Diagnosis,
    EventType,
    Evidence,
    EvidenceLink,
    Execution,
    ExecutionStatus,
    Hypothesis,
    Incident,
    IncidentState,
    LogLine,
    Plan,
    PodInfo,
    Point,
    Postmortem,
    RevertContext,
    Revision,
    Risk,
    RolloutStatus,
    RootCause,
    RootCauseCategory,
    Series,
    ServiceInfo,
    ServiceKind,
    Severity,
    Signal,
    SignalSource,
    TimelineEntry,
    Verification,
    VerificationOutcome,
    WriteResult,
)

__all__ = [
    "T0",
    "action",
    "approval",
    "diagnosis",
    "evidence",
    "execution",
    "incident",
    "plan",
    "samples",
    "signal",
    "verification",
]

T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


def evidence(evidence_id: str = "ev-mem") -> Evidence:
    return Evidence(
        id=evidence_id,
        source="metrics",
        query="memory_working_set_bytes{service='auth-service'}",
        summary="working set climbs 4 MiB/min since v1.2.1",
        data={"slope_mb_per_min": 4.02, "pods": 2, "leak": True, "baseline": None, "unit": "MiB"},
        series=(
            Series(
                metric="memory_working_set_bytes",
                service="auth-service",
                points=(Point(t=1_773_480_000, v=3.1e8), Point(t=1_773_480_015.5, v=3.2e8)),
                labels={"pod": "auth-service-7d9f-x2"},
                unit="bytes",
            ),
        ),
    )


def signal(fingerprint: str = "f1", starts_at: datetime = T0, **changes: Any) -> Signal:
    base = Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint=fingerprint,
        name="KubePodMemoryHigh",
        starts_at=starts_at,
        service="auth-service",
        namespace="production",
        severity=Severity.CRITICAL,
        summary="auth-service memory above 90% of its limit",
        labels={"alertname": "KubePodMemoryHigh", "service": "auth-service"},
        annotations={"runbook": "https://runbooks.example.com/memory"},
        evidence=(evidence(),),
    )
    return dataclasses.replace(base, **changes)


def incident(
    incident_id: str = "inc-1",
    group_key: str = "production/auth-service",
    opened_at: datetime = T0,
    state: IncidentState = IncidentState.OPEN,
) -> Incident:
    return Incident(
        id=incident_id,
        title="auth-service memory leak",
        state=state,
        opened_at=opened_at,
        updated_at=opened_at,
        group_key=group_key,
        service="auth-service",
        namespace="production",
        severity=Severity.CRITICAL,
    )


def action(kind: ActionKind = ActionKind.ROLLOUT_UNDO, target: str = "auth-service") -> Action:
    return Action(
        kind=kind,
        target=target,
        namespace="production",
        risk=Risk.MEDIUM,
        reason="v1.2.1 leaks memory; v1.2.0 did not",
        command=f"kubectl -n production rollout undo deployment/{target}",
        params={"to_revision": 3, "max_surge": 0.25, "dry_run": False, "note": None},
        verification=(
            Criterion(metric="memory_working_set_bytes", service=target, upper=500),
            Criterion(
                metric="error_ratio",
                service=target,
                upper=0.01,
                lower=0.0,
                window_seconds=300,
                description="errors back under 1%",
            ),
        ),
        undo=f"kubectl -n production rollout undo deployment/{target}",
    )


def plan(incident_id: str = "inc-1", rationale: str = "roll back the leaking release") -> Plan:
    return Plan(
        incident_id=incident_id,
        immediate=(action(),),
        long_term=(action(ActionKind.REVERT_PR),),
        rationale=rationale,
    )


def diagnosis(incident_id: str = "inc-1", summary: str = "v1.2.1 leaks memory") -> Diagnosis:
    cause = RootCause(
        service="auth-service", category=RootCauseCategory.BAD_DEPLOY, change="v1.2.1"
    )
    return Diagnosis(
        incident_id=incident_id,
        hypotheses=(
            Hypothesis(
                root_cause=cause,
                score=0.91,
                explanation="memory climbs linearly from the deploy on",
                evidence_ids=("ev-mem",),
                fault="memory_leak",
            ),
            Hypothesis(
                root_cause=RootCause(service="catalog", category=RootCauseCategory.BAD_DEPLOY),
                score=0.1,
                explanation="a deploy 20 minutes ago",
            ),
        ),
        confidence=0.87,
        conclusive=True,
        summary=summary,
        evidence=(evidence(),),
        onset=T0 - timedelta(minutes=75),
        missing=("logs: loki unreachable",),
        rejected=("catalog: its metrics are flat",),
    )


def approval(
    plan_hash: str,
    actor: str = "alice@example.com",
    decision: ApprovalDecision = ApprovalDecision.APPROVED,
) -> Approval:
    return Approval(
        incident_id="inc-1",
        plan_hash=plan_hash,
        decision=decision,
        actor=actor,
        at=T0 + timedelta(minutes=5),
        channel="web",
        reason="looks right",
    )


def execution(
    key: str = "inc-1:rollout_undo:auth-service", detail: str = "rolled back"
) -> Execution:
    return Execution(
        action=action(),
        idempotency_key=key,
        status=ExecutionStatus.SUCCEEDED,
        started_at=T0 + timedelta(minutes=6),
        finished_at=T0 + timedelta(minutes=6, seconds=12),
        detail=detail,
    )


def verification(outcome: VerificationOutcome = VerificationOutcome.RECOVERED) -> Verification:
    return Verification(
        outcome=outcome,
        checked_at=T0 + timedelta(minutes=16),
        detail="memory flat at 310 MiB for 10 minutes",
        observations={"memory_mb": 310.5, "restarts": 0, "ok": True, "note": None},
    )


def samples() -> list[object]:
    """One filled-in instance of every dataclass the domain exports."""
    return [
        Point(t=1.5, v=2),
        evidence().series[0],
        evidence(),
        signal(ends_at=T0 + timedelta(hours=1), firing=False),
        incident(),
        Change(
            kind=ChangeKind.DEPLOY,
            service="auth-service",
            namespace="production",
            at=T0 - timedelta(minutes=75),
            version="v1.2.1",
            previous_version="v1.2.0",
            revision=4,
            commit_sha="9f3c2ab",
            commit_message="Cache session tokens in memory",
            author="dev@example.com",
            description="rollout of v1.2.1",
        ),
        RootCause(service="auth-service", category=RootCauseCategory.BAD_DEPLOY),
        diagnosis().hypotheses[0],
        diagnosis(),
        Criterion(metric="error_ratio", service="auth-service", upper=None, lower=0.5),
        action(),
        plan(),
        approval(plan().hash),
        execution(),
        verification(),
        TimelineEntry(at=T0, kind="signal", message="alert fired", data={"count": 2, "x": 1.5}),
        Postmortem(incident_id="inc-1", title="auth-service leak", markdown="# What happened\n"),
        AgentReview(
            status=AgentStatus.APPLIED,
            reason="1 claim(s) accepted, 1 rejected",
            model="openai:gpt-4o-mini",
            requests=2,
            tool_calls=1,
            input_tokens=4500,
            output_tokens=312,
            token_limit=21000,
            accepted=("auth-service: bad_deploy v1.2.1, citing ev-1",),
            rejected=("a claim against catalog: it cites no evidence",),
            new_evidence=("ev-llm-1",),
            narrative="v1.2.1 leaks memory from the deploy on.",
            check_next=("a heap profile of auth-service",),
        ),
        ServiceInfo(
            name="auth-service",
            namespace="production",
            kind=ServiceKind.SERVICE,
            calls=("users-db",),
            replicas=2,
            version="v1.2.1",
            revision=4,
            nodes=("node-a",),
        ),
        Revision(number=4, version="v1.2.1", at=T0, change_cause="deploy", commit_sha="9f3c2ab"),
        LogLine(
            at=T0, service="auth-service", pod="auth-7d9f", message="GC pause 1.2s", level="warn"
        ),
        WriteResult(
            applied=True, detail="rolled back", data={"revision": 3, "ratio": 0.5, "to": "v"}
        ),
        RolloutStatus(done=True, updated_replicas=2, desired_replicas=2, detail="complete"),
        ClusterEvent(
            at=T0,
            reason="OOMKilled",
            object="Pod/auth-7d9f",
            message="container auth exceeded its memory limit",
            type=EventType.WARNING,
            namespace="production",
            count=3,
        ),
        PodInfo(
            name="auth-7d9f",
            service="auth-service",
            namespace="production",
            node="node-a",
            ready=False,
            restarts=4,
            status="CrashLoopBackOff",
            revision=4,
        ),
        Commit(
            sha="9f3c2ab",
            message="Cache session tokens in memory",
            author="dev",
            at=T0,
            email="dev@example.com",
            url="https://git.example/c/9f3c2ab",
        ),
        EvidenceLink(id="ev-1", summary="memory climbs", url="https://medic.example/#ev-1"),
        RevertContext(
            incident_id="inc-1",
            summary="leak",
            root_cause="bad_deploy of auth-service (v1.2.1)",
            incident_url="https://medic.example/ui/incidents/inc-1",
            evidence=(EvidenceLink(id="ev-1"),),
        ),
    ]
