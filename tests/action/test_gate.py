"""The approval gate admits one decision, on the current plan, while the incident waits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from medic.action import check_decision, check_scope
from medic.domain import (
    ActionKind,
    Approval,
    ApprovalDecision,
    ConflictError,
    IncidentState,
    NotFoundError,
    PermanentError,
    ServiceInfo,
    ServiceKind,
)
from tests.action import builders
from tests.action.fakes import T0


def approval(plan_hash: str, decision: ApprovalDecision = ApprovalDecision.APPROVED) -> Approval:
    return Approval("inc-1", plan_hash, decision, actor="alice", at=T0)


def test_a_fresh_decision_on_the_current_plan_is_admitted() -> None:
    p = builders.plan()

    check_decision(p, builders.incident(), p.hash, prior=[])


def test_a_stale_hash_is_refused_naming_both_hashes() -> None:
    old = builders.plan(builders.action(to_revision=1))
    current = builders.plan(builders.action(to_revision=2))

    with pytest.raises(ConflictError, match="is stale") as err:
        check_decision(current, builders.incident(), old.hash, prior=[])

    assert old.hash[:12] in str(err.value)
    assert current.hash[:12] in str(err.value)


@pytest.mark.parametrize("decision", list(ApprovalDecision))
def test_a_second_decision_is_refused(decision: ApprovalDecision) -> None:
    p = builders.plan()

    with pytest.raises(ConflictError, match="already"):
        check_decision(p, builders.incident(), p.hash, prior=[approval(p.hash, decision)])


def test_a_decision_on_an_earlier_plan_does_not_block_the_current_one() -> None:
    old = builders.plan(builders.action(to_revision=1))
    current = builders.plan(builders.action(to_revision=2))

    check_decision(current, builders.incident(), current.hash, prior=[approval(old.hash)])


@pytest.mark.parametrize(
    "state", [s for s in IncidentState if s is not IncidentState.AWAITING_APPROVAL]
)
def test_an_incident_not_awaiting_approval_is_refused(state: IncidentState) -> None:
    p = builders.plan()

    with pytest.raises(ConflictError, match="not awaiting approval"):
        check_decision(p, builders.incident(state), p.hash, prior=[])


def test_no_plan_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        check_decision(None, builders.incident(), "abc", prior=[])


SERVICES = [
    ServiceInfo("auth-service", "production", nodes=("node-a",)),
    ServiceInfo("payments-provider", "production", kind=ServiceKind.EXTERNAL),
    ServiceInfo("catalog", "production"),
]


def test_scope_admits_the_diagnosed_service() -> None:
    check_scope(builders.plan(), builders.incident(), SERVICES, scope={"auth-service"})


def test_scope_refuses_an_external_target() -> None:
    p = builders.plan(replace(builders.action(), target="payments-provider"))

    with pytest.raises(PermanentError, match="external"):
        check_scope(p, builders.incident(), SERVICES)


def test_scope_refuses_a_service_outside_the_incident() -> None:
    p = builders.plan(replace(builders.action(), target="catalog"))

    with pytest.raises(PermanentError, match="outside"):
        check_scope(p, builders.incident(), SERVICES, scope={"auth-service"})


def test_scope_refuses_another_namespace() -> None:
    p = builders.plan(replace(builders.action(), namespace="staging"))

    with pytest.raises(PermanentError, match="namespace"):
        check_scope(p, builders.incident(), SERVICES)


def test_scope_lets_escalation_through_whatever_its_target() -> None:
    p = builders.plan(replace(builders.action(ActionKind.ESCALATE), target="payments-provider"))

    check_scope(p, builders.incident(), SERVICES, scope={"auth-service"})
