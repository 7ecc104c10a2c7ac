"""Each root-cause category gets the right immediate action, target and follow-up."""

from __future__ import annotations

from dataclasses import replace

from medic.domain import (
    ActionKind,
    Diagnosis,
    Evidence,
    Hypothesis,
    MetricName,
    RootCause,
    RootCauseCategory,
    ServiceInfo,
    ServiceKind,
)
from medic.remediation import plan
from tests.remediation import seed

_LATENCY = {MetricName.LATENCY_P99_SECONDS.value: 0.05, MetricName.ERROR_RATIO.value: 0.01}


def _diagnosis(top: Hypothesis, *extra: Evidence) -> Diagnosis:
    d = seed.with_top(seed.diagnosis(), top)
    return replace(d, evidence=(*d.evidence, *extra))


def _top(
    service: str,
    category: RootCauseCategory,
    fault: str,
    change: str | None = None,
    evidence: tuple[str, ...] = ("ev-1",),
) -> Hypothesis:
    return Hypothesis(RootCause(service, category, change), 0.9, "observed", evidence, fault)


def test_a_bad_config_change_is_reverted_by_its_key() -> None:
    top = _top("catalog", RootCauseCategory.CONFIG_CHANGE, "error_regression", "DB_POOL_MAX")

    p = plan(_diagnosis(top), seed.services(), {}, baseline=_LATENCY)

    (revert,) = p.immediate
    assert revert.kind is ActionKind.REVERT_CONFIG
    assert revert.target == "catalog"
    assert revert.params["key"] == "DB_POOL_MAX"
    assert revert.verification[0].metric == MetricName.ERROR_RATIO.value
    assert [a.kind for a in p.long_term] == [ActionKind.ESCALATE]


def test_node_pressure_cordons_the_node_the_evidence_names() -> None:
    node_evidence = Evidence(
        "ev-9", "metrics", "per-pod latency by node", "node-b slow", data={"node": "node-b"}
    )
    top = _top(
        "catalog", RootCauseCategory.INFRASTRUCTURE, "node_pressure", evidence=("ev-9", "ev-1")
    )
    services = [
        s if s.name != "catalog" else replace(s, nodes=("node-a", "node-b"))
        for s in seed.services()
    ]

    p = plan(_diagnosis(top, node_evidence), services, {}, baseline=_LATENCY)

    (cordon,) = p.immediate
    assert cordon.kind is ActionKind.CORDON_NODE
    assert cordon.target == "node-b"
    assert cordon.command == "kubectl cordon node-b"
    assert cordon.undo == "kubectl uncordon node-b"
    assert cordon.verification[0].service == "catalog"


def test_a_node_the_service_does_not_run_on_is_never_cordoned() -> None:
    node_evidence = Evidence("ev-9", "metrics", "q", "s", data={"node": "node-z"})
    top = _top("catalog", RootCauseCategory.INFRASTRUCTURE, "node_pressure", evidence=("ev-9",))
    services = [
        s if s.name != "catalog" else replace(s, nodes=("node-a",)) for s in seed.services()
    ]

    p = plan(_diagnosis(top, node_evidence), services, {}, baseline=_LATENCY)

    assert not p.acts


def test_capacity_without_a_change_scales_out_within_bounds() -> None:
    top = _top("catalog", RootCauseCategory.CAPACITY, "connection_pool_exhaustion")

    p = plan(_diagnosis(top), seed.services(), {}, baseline=_LATENCY)

    (scale,) = p.immediate
    assert scale.kind is ActionKind.SCALE_OUT
    assert scale.params == {"replicas": 4, "from_replicas": 2}


def test_a_dependency_failure_of_an_in_house_service_is_escalated() -> None:
    top = _top("catalog", RootCauseCategory.DEPENDENCY_FAILURE, "dependency_outage")

    p = plan(_diagnosis(top), seed.services(), {}, baseline=_LATENCY)

    assert not p.acts
    assert "owners" in p.rationale


def test_a_third_party_outage_is_escalated_and_never_targeted() -> None:
    top = _top("stripe", RootCauseCategory.DEPENDENCY_FAILURE, "dependency_outage")
    stripe = ServiceInfo("stripe", "production", kind=ServiceKind.EXTERNAL)

    p = plan(_diagnosis(top), seed.services(stripe), {}, baseline=_LATENCY)

    assert not p.acts
    assert all(a.kind is ActionKind.ESCALATE for a in p.immediate)


def test_a_full_disk_is_handed_to_a_human() -> None:
    top = _top("catalog", RootCauseCategory.RESOURCE_EXHAUSTION, "disk_full")

    p = plan(_diagnosis(top), seed.services(), {}, baseline=_LATENCY)

    assert not p.acts
    assert "disk_full" in p.rationale
