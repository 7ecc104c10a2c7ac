"""A store holding one incident awaiting approval, and `decide` without DBOS.

`StoreDecide` applies the real approval gate (`medic.action.check_decision`) and the
store's one-decision-per-plan rule, exactly as `medic.workflows.approvals.decide` does
before it wakes the workflow; the tests here have no workflow to wake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from medic.action import check_decision
from medic.domain import (
    Action,
    ActionKind,
    Approval,
    ApprovalDecision,
    Criterion,
    Diagnosis,
    Evidence,
    Hypothesis,
    Incident,
    IncidentState,
    Plan,
    Point,
    Risk,
    RootCause,
    RootCauseCategory,
    Series,
    TimelineEntry,
)
from medic.store import Store

__all__ = ["INJECTION", "ONSET", "StoreDecide", "seed_incident"]

INJECTION = "<script>alert(1)</script>"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
ONSET = NOW - timedelta(minutes=40)


def _memory() -> Series:
    start = NOW - timedelta(hours=2)
    points = []
    for i in range(480):  # 15 s steps; flat, then climbing after the onset
        t = start + timedelta(seconds=15 * i)
        climb = max(0.0, (t - ONSET).total_seconds()) * 50_000.0
        points.append(Point(t=t.timestamp(), v=300e6 + climb + (i % 7) * 1e6))
    return Series("memory_working_set_bytes", "auth-service", tuple(points), unit="bytes")


def seed_incident(store: Store, incident_id: str = "inc-web-1", title: str = "") -> Plan:
    """An auth-service memory leak awaiting approval; untrusted text carries INJECTION."""
    store.create_incident(
        Incident(
            id=incident_id,
            title=title or f"MemoryLeak on auth-service {INJECTION}",
            state=IncidentState.OPEN,
            opened_at=NOW - timedelta(minutes=10),
            updated_at=NOW,
            group_key=f"production/auth-service/{incident_id}",
            service="auth-service",
            namespace="production",
        )
    )
    store.save_diagnosis(
        Diagnosis(
            incident_id=incident_id,
            hypotheses=(
                Hypothesis(
                    RootCause("auth-service", RootCauseCategory.BAD_DEPLOY, "v1.2.1"),
                    0.97,
                    "memory climbs since the v1.2.1 deploy",
                    ("ev-1", "ev-2"),
                    fault="memory_leak",
                ),
            ),
            confidence=0.97,
            conclusive=True,
            summary=f"auth-service leaks memory since v1.2.1 {INJECTION}",
            evidence=(
                Evidence(
                    "ev-1",
                    "metrics",
                    "memory{service=auth-service}",
                    "302 -> 610 MB",
                    data={"graph_url": "http://prometheus:9090/graph?g0.expr=memory&x=<b>"},
                    series=(_memory(),),
                ),
                Evidence(
                    "ev-2",
                    "logs",
                    "logs(auth-service)",
                    f"log line: {INJECTION}",
                    data={"generator_url": "javascript:alert(1)"},
                ),
            ),
            onset=ONSET,
            rejected=(f"catalog deploy <b>rejected</b>: healthy {INJECTION}",),
        )
    )
    plan = Plan(
        incident_id=incident_id,
        immediate=(
            Action(
                kind=ActionKind.ROLLOUT_UNDO,
                target="auth-service",
                namespace="production",
                risk=Risk.MEDIUM,
                reason="v1.2.1 is the likely cause",
                command="kubectl rollout undo deployment/auth-service -n production",
                verification=(Criterion("memory_working_set_bytes", "auth-service", 400e6),),
                undo="kubectl rollout undo deployment/auth-service -n production --to-revision=2",
            ),
        ),
        long_term=(),
        rationale="roll back to v1.2.0",
    )
    store.save_plan(plan)
    store.add_timeline(incident_id, TimelineEntry(NOW, "approval", "waiting for a human"))
    store.set_state(incident_id, IncidentState.AWAITING_APPROVAL, NOW)
    return plan


@dataclass
class StoreDecide:
    store: Store
    calls: list[tuple[str, str, ApprovalDecision, str, str, str]] = field(default_factory=list)

    def __call__(
        self,
        incident_id: str,
        plan_hash: str,
        decision: ApprovalDecision,
        actor: str,
        channel: str,
        reason: str = "",
    ) -> Approval:
        self.calls.append((incident_id, plan_hash, decision, actor, channel, reason))
        incident = self.store.get_incident(incident_id)
        plan = self.store.plan(incident_id)
        check_decision(plan, incident, plan_hash, self.store.approvals(incident_id))
        return self.store.record_approval(
            Approval(incident_id, plan_hash, decision, actor, NOW, channel, reason)
        )
