"""The architect turns the seed diagnosis (and its variants) into the right plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from medic.domain import (
    ActionKind,
    Hypothesis,
    MetricName,
    Risk,
    RootCause,
    RootCauseCategory,
    ServiceInfo,
    ServiceKind,
)
from medic.remediation import baseline_from_evidence, plan, render_note
from tests.remediation import seed


def test_seed_diagnosis_rolls_auth_service_back_to_the_previous_revision() -> None:
    p = plan(seed.diagnosis(), seed.services(), seed.history())

    assert p.acts
    (undo,) = p.immediate
    assert undo.kind is ActionKind.ROLLOUT_UNDO
    assert undo.target == "auth-service"
    assert undo.namespace == "production"
    assert undo.risk is Risk.MEDIUM
    assert undo.command == "kubectl rollout undo deployment/auth-service -n production"
    assert undo.params["to_revision"] == 1
    assert undo.params["from_version"] == "v1.2.1"
    assert undo.params["to_version"] == "v1.2.0"
    assert "--to-revision=1" in render_note(undo)
    assert undo.undo == "kubectl rollout undo deployment/auth-service -n production --to-revision=2"


def test_seed_plan_verifies_memory_back_near_the_pre_onset_baseline() -> None:
    p = plan(seed.diagnosis(), seed.services(), seed.history())

    (criterion,) = p.immediate[0].verification
    assert criterion.metric == MetricName.MEMORY_WORKING_SET_BYTES.value
    assert criterion.service == "auth-service"
    assert criterion.upper is not None
    baseline = seed.BASELINE_MB * seed.MIB
    assert baseline * 1.25 <= criterion.upper <= baseline * 1.25 + 64 * seed.MIB
    assert criterion.window_seconds == 600


def test_seed_plan_proposes_a_revert_pull_request_for_the_long_term() -> None:
    p = plan(seed.diagnosis(), seed.services(), seed.history())

    (revert,) = p.long_term
    assert revert.kind is ActionKind.REVERT_PR
    assert revert.params["service"] == "auth-service"
    assert revert.params["good_version"] == "v1.2.0"
    assert revert.params["bad_version"] == "v1.2.1"


def test_rationale_cites_the_evidence_ids() -> None:
    p = plan(seed.diagnosis(), seed.services(), seed.history())

    assert "ev-1" in p.rationale and "ev-2" in p.rationale
    assert "ev-1" in p.immediate[0].reason


@pytest.mark.parametrize(
    ("confidence", "conclusive"), [(0.3, True), (0.9, False)], ids=["low", "inconclusive"]
)
def test_an_unsure_diagnosis_only_escalates(confidence: float, conclusive: bool) -> None:
    d = seed.diagnosis(confidence=confidence, conclusive=conclusive)

    p = plan(d, seed.services(), seed.history())

    assert not p.acts
    assert [a.kind for a in p.immediate] == [ActionKind.ESCALATE]
    assert p.long_term == ()
    assert "ev-1" in p.immediate[0].reason


def test_an_external_cause_is_escalated_never_acted_on() -> None:
    stripe = ServiceInfo("payments-provider", "production", kind=ServiceKind.EXTERNAL)
    top = Hypothesis(
        RootCause("payments-provider", RootCauseCategory.DEPENDENCY_FAILURE),
        score=0.9,
        explanation="the provider refuses connections",
        evidence_ids=("ev-1",),
    )
    d = seed.with_top(seed.diagnosis(), top)

    p = plan(d, seed.services(stripe), seed.history())

    assert not p.acts
    assert all(a.kind is ActionKind.ESCALATE for a in (*p.immediate, *p.long_term))
    assert "external" in p.rationale


def test_a_cause_outside_the_namespace_is_escalated() -> None:
    top = replace(
        seed.diagnosis().hypotheses[0],
        root_cause=RootCause("billing", RootCauseCategory.BAD_DEPLOY, "v9"),
    )

    p = plan(seed.with_top(seed.diagnosis(), top), seed.services(), seed.history())

    assert not p.acts


def test_a_leak_without_a_change_restarts_and_escalates_for_the_fix() -> None:
    top = Hypothesis(
        RootCause("auth-service", RootCauseCategory.RESOURCE_EXHAUSTION),
        score=0.8,
        explanation="working set climbs steadily",
        evidence_ids=("ev-1",),
        fault="memory_leak",
    )

    p = plan(seed.with_top(seed.diagnosis(), top), seed.services(), {})

    (restart,) = p.immediate
    assert restart.kind is ActionKind.ROLLOUT_RESTART
    assert restart.risk is Risk.LOW
    assert restart.command == "kubectl rollout restart deployment/auth-service -n production"
    assert restart.verification[0].metric == MetricName.MEMORY_WORKING_SET_BYTES.value
    assert [a.kind for a in p.long_term] == [ActionKind.ESCALATE]


def test_a_newer_live_revision_is_not_rolled_back_over() -> None:
    history = seed.history()
    history["auth-service"].append(
        replace(history["auth-service"][-1], number=3, version="v1.2.2", at=seed.NOW)
    )
    top = replace(seed.diagnosis().hypotheses[0], fault=None)

    p = plan(seed.with_top(seed.diagnosis(), top), seed.services(), history)

    assert not p.acts
    assert "v1.2.2" in p.rationale


def test_no_baseline_means_no_action() -> None:
    d = replace(seed.diagnosis(), evidence=(), onset=None)

    p = plan(d, seed.services(), seed.history())

    assert not p.acts
    assert "baseline" in p.rationale


def test_an_explicit_baseline_wins_over_the_evidence() -> None:
    p = plan(
        seed.diagnosis(),
        seed.services(),
        seed.history(),
        baseline={MetricName.MEMORY_WORKING_SET_BYTES.value: 100.0 * seed.MIB},
    )

    upper = p.immediate[0].verification[0].upper
    assert upper is not None and upper < 200 * seed.MIB


def test_baseline_from_evidence_is_the_pre_onset_median() -> None:
    value = baseline_from_evidence(
        seed.diagnosis(), "auth-service", MetricName.MEMORY_WORKING_SET_BYTES
    )

    assert value == pytest.approx(seed.BASELINE_MB * seed.MIB)


def test_plan_hash_is_stable_for_the_same_inputs_and_changes_with_the_plan() -> None:
    first = plan(seed.diagnosis(), seed.services(), seed.history())
    again = plan(seed.diagnosis(), seed.services(), seed.history())
    other = plan(
        seed.diagnosis(),
        seed.services(),
        seed.history(),
        baseline={MetricName.MEMORY_WORKING_SET_BYTES.value: 200.0 * seed.MIB},
    )

    assert first.hash == again.hash
    assert first.hash != other.hash
    assert first.hash != plan(seed.diagnosis(0.2), seed.services(), seed.history()).hash


def test_traffic_surge_scales_out() -> None:
    top = Hypothesis(
        RootCause("catalog", RootCauseCategory.TRAFFIC_SURGE),
        score=0.8,
        explanation="request rate tripled",
        evidence_ids=("ev-1",),
    )
    base = {MetricName.LATENCY_P99_SECONDS.value: 0.05}

    p = plan(seed.with_top(seed.diagnosis(), top), seed.services(), {}, baseline=base)

    (scale,) = p.immediate
    assert scale.kind is ActionKind.SCALE_OUT
    assert scale.command == "kubectl scale deployment/catalog -n production --replicas=4"
    assert scale.verification[0].metric == MetricName.LATENCY_P99_SECONDS.value


def test_a_leaking_release_that_cannot_be_rolled_back_is_restarted() -> None:
    p = plan(seed.diagnosis(), seed.services(), history={})

    (restart,) = p.immediate
    assert restart.kind is ActionKind.ROLLOUT_RESTART
    assert "no rollout history" in p.rationale
    assert [a.kind for a in p.long_term] == [ActionKind.ESCALATE]


def test_a_database_is_never_acted_on_automatically() -> None:
    top = replace(
        seed.diagnosis().hypotheses[0],
        root_cause=RootCause("users-db", RootCauseCategory.RESOURCE_EXHAUSTION),
    )

    p = plan(seed.with_top(seed.diagnosis(), top), seed.services(), seed.history())

    assert not p.acts
    assert "database" in p.rationale
