"""Policy: observe/propose never execute; auto runs allow-listed low-risk actions unasked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from medic.action import Autonomy, Policy
from medic.domain import ActionKind, Risk
from tests.action import builders


@pytest.mark.parametrize("autonomy", ["observe", "propose"])
def test_observe_and_propose_never_execute(autonomy: Autonomy) -> None:
    policy = Policy(autonomy, frozenset(ActionKind))

    assert not policy.allows(builders.plan())


def test_approve_executes_only_after_approval() -> None:
    policy = Policy("approve", frozenset(ActionKind))

    assert policy.allows(builders.plan())
    assert policy.requires_approval(builders.plan())


def test_auto_runs_allow_listed_actions_without_asking() -> None:
    policy = Policy("auto", frozenset({ActionKind.ROLLOUT_UNDO}))

    assert policy.allows(builders.plan())
    assert not policy.requires_approval(builders.plan())


def test_auto_asks_for_actions_not_allow_listed() -> None:
    policy = Policy("auto", frozenset({ActionKind.ROLLOUT_RESTART}))

    assert policy.requires_approval(builders.plan())


def test_auto_asks_for_high_risk_actions_even_when_allow_listed() -> None:
    policy = Policy("auto", frozenset(ActionKind))
    risky = builders.plan(replace(builders.action(), risk=Risk.HIGH))

    assert policy.requires_approval(risky)


def test_an_escalation_only_plan_has_nothing_to_execute_or_approve() -> None:
    policy = Policy("auto", frozenset(ActionKind))
    escalate = builders.plan(builders.action(ActionKind.ESCALATE))

    assert not policy.allows(escalate)
    assert not policy.requires_approval(escalate)
