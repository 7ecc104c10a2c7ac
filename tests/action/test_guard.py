"""The executor itself refuses what the safety model forbids, whatever plan reached it:
an untyped action, a target outside the incident's scope, a stateful or external
target, an action past the incident's or the fleet's budget. Nothing is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from medic.action import execute
from medic.action.guard import ExecutionGuard
from medic.action.policy import Policy
from medic.action.policy_file import ActionBudget, Budget, FleetBudget, parse_policy_document
from medic.domain import (
    Action,
    ActionKind,
    Execution,
    ExecutionStatus,
    InvalidInputError,
)
from tests.action import builders
from tests.action.fakes import T0, FakeClock, FakeReader, FakeWriter


def _run(action: Action, guard: ExecutionGuard, key: str = "k") -> tuple[Execution, FakeWriter]:
    writer = FakeWriter()
    run = execute(action, writer, FakeReader(), None, FakeClock(), key, guard=guard)
    return run, writer


def _on(target: str, kind: ActionKind = ActionKind.ROLLOUT_RESTART, **params: int) -> Action:
    return replace(builders.action(kind, **params), target=target)


def _done(action: Action, key: str, minutes_ago: float = 1.0, incident: str = "inc-1") -> Execution:
    at = T0 - timedelta(minutes=minutes_ago)
    return Execution(action, f"{incident}:{key}", ExecutionStatus.SUCCEEDED, at, at, "done")


def test_a_restart_of_a_database_is_refused_and_nothing_is_written() -> None:
    run, writer = _run(_on("users-db"), builders.guard())

    assert run.status is ExecutionStatus.REFUSED
    assert "users-db" in run.detail and "database is stateful" in run.detail
    assert writer.applied == {}


def test_a_scale_out_of_a_database_runs_only_when_the_policy_allows_it() -> None:
    scale = _on("users-db", ActionKind.SCALE_OUT, replicas=3, from_replicas=1)
    allowed = builders.guard(stateful_allowed=lambda ns, s: frozenset({ActionKind.SCALE_OUT}))

    refused, _ = _run(scale, builders.guard())
    done, writer = _run(scale, allowed)

    assert refused.status is ExecutionStatus.REFUSED
    assert done.status is ExecutionStatus.SUCCEEDED
    assert writer.applied == {"k": ("scale", "production", "users-db", "3")}


def test_a_target_outside_the_incidents_scope_is_refused() -> None:
    run, writer = _run(_on("catalog"), builders.guard())

    assert run.status is ExecutionStatus.REFUSED
    assert "outside the incident's scope" in run.detail
    assert writer.applied == {}


def test_an_external_service_is_refused_even_in_scope() -> None:
    guard = builders.guard(scope=frozenset({"auth-service", "stripe"}))

    run, writer = _run(_on("stripe"), guard)

    assert run.status is ExecutionStatus.REFUSED
    assert "external" in run.detail
    assert writer.applied == {}


def test_a_node_no_service_of_the_incident_runs_on_is_not_cordoned() -> None:
    far, writer = _run(_on("node-d", ActionKind.CORDON_NODE), builders.guard())
    near, _ = _run(_on("node-b", ActionKind.CORDON_NODE), builders.guard())

    assert far.status is ExecutionStatus.REFUSED
    assert writer.applied == {}
    assert near.status is ExecutionStatus.SUCCEEDED


def test_an_action_outside_the_typed_catalog_is_refused() -> None:
    rogue = replace(builders.action(), kind="delete_namespace")  # type: ignore[arg-type]

    run, writer = _run(rogue, builders.guard())

    assert run.status is ExecutionStatus.REFUSED
    assert "typed catalog" in run.detail
    assert writer.applied == {}


def test_a_whole_number_param_given_as_text_is_refused() -> None:
    run, writer = _run(builders.action(ActionKind.SCALE_OUT, replicas="40"), builders.guard())

    assert run.status is ExecutionStatus.REFUSED
    assert "replicas" in run.detail
    assert writer.applied == {}


def test_the_incidents_action_budget_stops_the_next_action() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=2, max_added_replicas=20))
    earlier = tuple(_done(_on("auth-service"), f"now:{i}") for i in range(2))

    run, writer = _run(_on("auth-service"), builders.guard(budget=budget, executed=earlier))

    assert run.status is ExecutionStatus.REFUSED
    assert "this incident's budget of 2 action(s) is spent" in run.detail
    assert writer.applied == {}


def test_an_action_rerun_after_a_crash_does_not_count_against_itself() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=1, max_added_replicas=20))
    mine = _done(_on("auth-service"), "now:0")

    run, _ = _run(
        _on("auth-service"),
        builders.guard(budget=budget, executed=(mine,)),
        key=mine.idempotency_key,
    )

    assert run.status is ExecutionStatus.SUCCEEDED


def test_a_scale_out_past_the_added_replica_budget_is_refused() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=5, max_added_replicas=10))
    huge = builders.action(ActionKind.SCALE_OUT, replicas=40, from_replicas=2)
    fair = builders.action(ActionKind.SCALE_OUT, replicas=12, from_replicas=2)

    refused, writer = _run(huge, builders.guard(budget=budget))
    done, _ = _run(fair, builders.guard(budget=budget))

    assert refused.status is ExecutionStatus.REFUSED
    assert "10 added replica(s) would be exceeded" in refused.detail
    assert writer.applied == {}
    assert done.status is ExecutionStatus.SUCCEEDED


def test_the_fleet_budget_counts_other_incidents_within_its_window_only() -> None:
    budget = Budget(fleet=FleetBudget(max_actions=3, max_added_replicas=50, window=3600))
    others = tuple(_done(_on("catalog"), f"now:{i}", 10, f"inc-{i + 2}") for i in range(3))
    old = tuple(replace(e, started_at=e.started_at - timedelta(hours=2)) for e in others)

    busy, writer = _run(_on("auth-service"), builders.guard(budget=budget, fleet=others))
    quiet, _ = _run(_on("auth-service"), builders.guard(budget=budget, fleet=old))

    assert busy.status is ExecutionStatus.REFUSED
    assert "the fleet's" in busy.detail
    assert writer.applied == {}
    assert quiet.status is ExecutionStatus.SUCCEEDED


def test_refused_and_repeated_executions_spend_no_budget() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=1, max_added_replicas=20))
    refused = replace(_done(_on("auth-service"), "now:0"), status=ExecutionStatus.REFUSED)
    repeat = replace(_done(_on("auth-service"), "now:1"), status=ExecutionStatus.ALREADY_APPLIED)

    run, _ = _run(_on("auth-service"), builders.guard(budget=budget, executed=(refused, repeat)))

    assert run.status is ExecutionStatus.SUCCEEDED


def test_an_undo_is_not_stopped_by_a_spent_budget_but_still_by_scope() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=1, max_added_replicas=0))
    earlier = (_done(_on("auth-service"), "now:0"),)
    back = builders.action(ActionKind.SCALE_OUT, replicas=2, from_replicas=6)
    guard = builders.guard(budget=budget, executed=earlier, undo=True)

    undone, _ = _run(back, guard)
    elsewhere, writer = _run(replace(back, target="catalog"), guard)

    assert undone.status is ExecutionStatus.SUCCEEDED
    assert elsewhere.status is ExecutionStatus.REFUSED
    assert writer.applied == {}


def test_escalation_and_revert_pull_requests_spend_no_budget() -> None:
    budget = Budget(per_incident=ActionBudget(max_actions=0, max_added_replicas=0))

    run, _ = _run(builders.action(ActionKind.ESCALATE), builders.guard(budget=budget))

    assert run.status is ExecutionStatus.SUCCEEDED


def test_the_policy_file_sets_budgets_and_the_actions_allowed_on_stateful_kinds() -> None:
    doc = parse_policy_document(
        """
budget:
  per_incident: {max_actions: 2, max_added_replicas: 6}
  fleet: {max_actions: 8, max_added_replicas: 12, window: 30m}
rules:
  - {namespace: production, service: "*-db", stateful_actions: [rollout_restart]}
""",
        "policy.yaml",
    )
    policy = Policy.from_document(doc, autonomy="approve")

    assert doc.budget.per_incident == ActionBudget(max_actions=2, max_added_replicas=6)
    assert doc.budget.fleet.window == 1800
    assert policy.resolve("production", "users-db").stateful_actions == {ActionKind.ROLLOUT_RESTART}
    assert policy.resolve("production", "auth-service").stateful_actions == frozenset()


def test_without_a_policy_file_the_budgets_are_bounded() -> None:
    budget = Policy().document.budget

    assert 0 < budget.per_incident.max_actions <= budget.fleet.max_actions
    assert 0 < budget.per_incident.max_added_replicas <= budget.fleet.max_added_replicas


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("budget: {per_incident: {max_actions: -1, max_added_replicas: 3}}", "policy.yaml:1"),
        ("budget:\n  fleet: {max_actions: 3, max_added_replicas: 3, window: 0s}", "policy.yaml:2"),
        ("rules:\n  - {service: db, stateful_actions: [drop_table]}", "policy.yaml:2"),
    ],
)
def test_a_bad_budget_or_stateful_rule_is_refused_with_its_line(text: str, where: str) -> None:
    with pytest.raises(InvalidInputError, match=where):
        parse_policy_document(text, "policy.yaml")
