"""Without an executor, every proposed action is handed to a human with its command."""

from __future__ import annotations

from medic.domain import ActionKind
from medic.remediation import plan
from medic.remediation.handover import hand_over
from tests.remediation import seed

WHY = "no executor is configured (no Kubernetes): medic proposes, a human acts"


def test_each_action_becomes_an_escalation_that_keeps_the_exact_command() -> None:
    acting = plan(seed.diagnosis(), seed.services(), seed.history())
    assert acting.acts
    handed = hand_over(acting, WHY)
    assert not handed.acts  # nothing in it changes the system
    (now,) = handed.immediate
    assert now.kind is ActionKind.ESCALATE
    assert now.command == acting.immediate[0].command
    assert now.command.startswith("kubectl rollout undo deployment/auth-service -n production")
    assert now.params["proposed"] == "rollout_undo"
    assert WHY in now.reason and now.command in now.reason
    (later,) = handed.long_term
    assert later.kind is ActionKind.ESCALATE and later.command.startswith("git revert")
    assert handed.hash != acting.hash
    assert WHY in handed.rationale


def test_an_escalation_only_plan_is_left_as_it_is() -> None:
    only = plan(seed.diagnosis(confidence=0.3, conclusive=False), seed.services(), seed.history())
    assert hand_over(only, WHY) == only
