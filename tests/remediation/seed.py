"""The seed scenario's diagnosis, as the diagnostician would hand it to the architect."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from medic.domain import (
    Diagnosis,
    Evidence,
    Hypothesis,
    Point,
    Revision,
    RootCause,
    RootCauseCategory,
    Series,
    ServiceInfo,
    ServiceKind,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DEPLOY_AT = NOW - timedelta(minutes=75)
MIB = 1024 * 1024
BASELINE_MB = 300.0


def memory_series(service: str = "auth-service") -> Series:
    """300 MiB flat for 3h, then +4 MiB/min from the bad deploy on."""
    points = []
    for i in range(0, 180 * 4):
        t = NOW - timedelta(minutes=180) + timedelta(seconds=15 * i)
        mb = BASELINE_MB + (max((t - DEPLOY_AT).total_seconds(), 0.0) / 60.0) * 4.0
        points.append(Point(t.timestamp(), mb * MIB))
    return Series(metric="memory_working_set_bytes", service=service, points=tuple(points))


def services(*extra: ServiceInfo) -> list[ServiceInfo]:
    ns = "production"
    return [
        ServiceInfo("api-gateway", ns, calls=("auth-service", "catalog"), replicas=3),
        ServiceInfo(
            "auth-service", ns, calls=("users-db",), replicas=2, version="v1.2.1", revision=2
        ),
        ServiceInfo("catalog", ns, calls=("catalog-db",), replicas=2, version="v3.0.1"),
        ServiceInfo("users-db", ns, kind=ServiceKind.DATABASE),
        ServiceInfo("catalog-db", ns, kind=ServiceKind.DATABASE),
        *extra,
    ]


def history() -> dict[str, list[Revision]]:
    return {
        "auth-service": [
            Revision(1, "v1.2.0", NOW - timedelta(days=3), "deploy v1.2.0", "1a2b3c4"),
            Revision(2, "v1.2.1", DEPLOY_AT, "Cache session tokens in memory", "9f3c2ab"),
        ]
    }


def diagnosis(confidence: float = 0.82, conclusive: bool = True) -> Diagnosis:
    evidence = (
        Evidence(
            id="ev-1",
            source="metrics",
            query="memory_working_set_bytes{service=auth-service}",
            summary="auth-service working set climbs 4 MiB/min since 10:45",
            series=(memory_series(),),
        ),
        Evidence(
            id="ev-2",
            source="changes",
            query="rollouts in production",
            summary="auth-service v1.2.1 deployed at 10:45: Cache session tokens in memory",
        ),
    )
    top = Hypothesis(
        root_cause=RootCause("auth-service", RootCauseCategory.BAD_DEPLOY, "v1.2.1"),
        score=0.86,
        explanation="the leak starts with the v1.2.1 rollout",
        evidence_ids=("ev-1", "ev-2"),
        fault="memory_leak",
    )
    runner_up = Hypothesis(
        root_cause=RootCause("catalog", RootCauseCategory.BAD_DEPLOY, "v3.0.1"),
        score=0.12,
        explanation="catalog deployed recently, but its metrics are flat",
        evidence_ids=("ev-2",),
    )
    return Diagnosis(
        incident_id="inc-1",
        hypotheses=(top, runner_up),
        confidence=confidence,
        conclusive=conclusive,
        summary="auth-service v1.2.1 leaks memory",
        evidence=evidence,
        onset=DEPLOY_AT,
    )


def with_top(d: Diagnosis, top: Hypothesis) -> Diagnosis:
    return replace(d, hypotheses=(top, *d.hypotheses[1:]))
