"""`decide_policy`: precedence, wildcards, freezes, rate limits, approvers, kill switch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from medic.action.policy import (
    Policy,
    PolicyContext,
    PolicyDecision,
    RecentAction,
    check_approver,
    decide_policy,
    needs_another_approver,
    recent_actions,
)
from medic.action.policy_file import parse_policy_document
from medic.domain import (
    Action,
    ActionKind,
    ConflictError,
    Execution,
    ExecutionStatus,
    Incident,
    Risk,
)
from tests.action import builders

# A Wednesday, at noon UTC.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

POLICY = """
groups:
  sre: [alice, bob]
  leads: [carol]
defaults: {autonomy: propose}
rules:
  - namespace: production
    autonomy: approve
    approvers: {groups: [sre]}
    second_approver_for: [high]
    rate_limit: {max_actions: 2, window: 1h}
  - namespace: production
    service: "auth-*"
    autonomy: auto
    auto_actions: [rollout_undo]
  - namespace: production
    service: auth-service
    approvers: {users: [carol, alice]}
  - namespace: "staging-*"
    autonomy: auto
    auto_actions: [rollout_restart]
"""


def _policy(text: str = POLICY) -> Policy:
    return Policy.from_document(parse_policy_document(text, "policy.yaml"))


def _act(
    target: str = "auth-service",
    namespace: str = "production",
    kind: ActionKind = ActionKind.ROLLOUT_UNDO,
    risk: Risk = Risk.MEDIUM,
) -> Action:
    return replace(builders.action(kind), target=target, namespace=namespace, risk=risk)


def _decide(
    *actions: Action,
    policy: Policy | None = None,
    now: datetime = NOON,
    context: PolicyContext | None = None,
    incident: Incident | None = None,
) -> PolicyDecision:
    return decide_policy(
        policy or _policy(),
        builders.plan(*actions),
        incident or builders.incident(),
        now,
        context or PolicyContext(),
    )


def test_the_most_specific_rule_wins_field_by_field() -> None:
    # auth-service: autonomy from "auth-*" (auto), approvers from the exact rule.
    decision = _decide(_act())
    assert decision.allowed and not decision.requires_approval
    assert decision.reason == "auto: every action is allow-listed and low-risk"

    resolved = _policy().resolve("production", "auth-service")
    assert resolved.autonomy == "auto"
    assert resolved.approvers == frozenset({"carol", "alice"})
    assert resolved.rate_limit is not None and resolved.rate_limit.max_actions == 2


def test_a_namespace_rule_applies_to_services_without_their_own() -> None:
    decision = _decide(_act("catalog"))
    assert decision.allowed and decision.requires_approval
    assert decision.approvers == frozenset({"alice", "bob"})
    assert decision.reason == "needs one approver (alice, bob)"


def test_wildcards_match_namespaces_and_defaults_cover_the_rest() -> None:
    staging = _decide(_act("api", "staging-eu", ActionKind.ROLLOUT_RESTART))
    assert staging.allowed and not staging.requires_approval
    elsewhere = _decide(_act("api", "dev"))
    assert not elsewhere.allowed
    assert elsewhere.reason == "autonomy on dev/api is 'propose': medic does not act there"


def test_between_equally_specific_rules_the_later_one_wins() -> None:
    policy = _policy(
        "rules:\n  - {namespace: p, autonomy: auto}\n  - {namespace: p, autonomy: observe}\n"
    )
    assert policy.resolve("p", "x").autonomy == "observe"


def test_without_a_file_the_settings_apply_everywhere() -> None:
    policy = Policy("approve", frozenset({ActionKind.SCALE_OUT}))
    decision = _decide(_act("anything", "anywhere"), policy=policy)
    assert decision.allowed and decision.requires_approval and decision.approvers == frozenset()
    assert decision.reason == "needs one approver (any user)"


def test_auto_still_asks_for_a_high_risk_action_and_names_two_approvers() -> None:
    decision = _decide(_act(risk=Risk.HIGH))
    assert decision.allowed and decision.requires_approval and decision.second_approver
    assert decision.reason == "needs two different approvers (alice, carol)"


def test_the_strictest_action_decides_for_the_whole_plan() -> None:
    decision = _decide(_act(), _act("payments", "dev"))
    assert not decision.allowed
    assert "dev/payments" in decision.reason


def test_approvers_must_be_allowed_for_every_action() -> None:
    decision = _decide(_act(), _act("catalog"))
    assert decision.requires_approval
    assert decision.approvers == frozenset({"alice"})


def test_an_escalation_only_plan_is_not_allowed_to_execute() -> None:
    decision = _decide(builders.action(ActionKind.ESCALATE))
    assert not decision.allowed and not decision.requires_approval


def test_a_cordon_follows_the_rules_of_the_incidents_service() -> None:
    cordon = _act("node-7", kind=ActionKind.CORDON_NODE)
    decision = _decide(cordon)  # incident service auth-service: auto, but not allow-listed
    assert decision.allowed and decision.requires_approval
    assert decision.approvers == frozenset({"alice", "carol"})


# -- the kill switch ------------------------------------------------------------------


def test_the_kill_switch_forbids_everything_and_says_who_and_why() -> None:
    paused = PolicyContext(paused=True, paused_by="alice", pause_reason="db migration")
    decision = _decide(_act(), context=paused)
    assert not decision.allowed
    assert decision.reason == "medic is paused (kill switch) by alice: db migration"


# -- freezes --------------------------------------------------------------------------

FRIDAY_NIGHTS = """
defaults: {autonomy: approve}
freezes:
  - name: friday night
    namespace: production
    timezone: Europe/Berlin
    weekly: {days: [fri], start: "22:00", end: "06:00"}
"""


@pytest.mark.parametrize(
    ("utc", "frozen"),
    [
        # Berlin is UTC+1 in March before the 29th: 22:00 local is 21:00 UTC.
        (datetime(2026, 3, 6, 20, 59, tzinfo=UTC), False),  # Friday 21:59 local
        (datetime(2026, 3, 6, 21, 0, tzinfo=UTC), True),  # Friday 22:00 local
        (datetime(2026, 3, 7, 4, 59, tzinfo=UTC), True),  # Saturday 05:59 local: past midnight
        (datetime(2026, 3, 7, 5, 0, tzinfo=UTC), False),  # Saturday 06:00 local
        (datetime(2026, 3, 7, 21, 30, tzinfo=UTC), False),  # Saturday night: not listed
    ],
)
def test_a_weekly_freeze_spans_midnight_in_its_time_zone(utc: datetime, frozen: bool) -> None:
    decision = _decide(_act(), policy=_policy(FRIDAY_NIGHTS), now=utc)
    assert decision.allowed is not frozen
    if frozen:
        assert decision.reason == (
            "change freeze 'friday night' on production/auth-service until "
            "2026-03-07T05:00:00+00:00"
        )


def test_a_weekly_freeze_follows_daylight_saving_time() -> None:
    # After the 29th of March Berlin is UTC+2: 22:00 local is 20:00 UTC.
    friday = datetime(2026, 4, 3, 20, 30, tzinfo=UTC)
    assert not _decide(_act(), policy=_policy(FRIDAY_NIGHTS), now=friday).allowed


def test_a_freeze_outside_its_scope_changes_nothing() -> None:
    friday_night = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)
    decision = _decide(_act("api", "staging"), policy=_policy(FRIDAY_NIGHTS), now=friday_night)
    assert decision.allowed


def test_an_absolute_freeze_covers_whole_days_in_its_time_zone() -> None:
    policy = _policy(
        "defaults: {autonomy: approve}\n"
        "freezes:\n  - {name: year end, start: 2026-12-23, end: 2027-01-02,"
        " timezone: America/New_York}\n"
    )
    # New York is UTC-5: the 2nd of January ends at 05:00 UTC on the 3rd.
    assert not _decide(_act(), policy=policy, now=datetime(2027, 1, 3, 4, 59, tzinfo=UTC)).allowed
    assert _decide(_act(), policy=policy, now=datetime(2027, 1, 3, 5, 0, tzinfo=UTC)).allowed
    assert _decide(_act(), policy=policy, now=datetime(2026, 12, 23, 4, 59, tzinfo=UTC)).allowed


WEEKENDS = """
defaults: {autonomy: auto, auto_actions: [rollout_undo]}
freezes:
  - name: weekend
    namespace: production
    cron: "0 18 * * FRI"
    duration: 64h
    timezone: Europe/Paris
"""


@pytest.mark.parametrize(
    ("utc", "until"),
    [
        # Paris is UTC+1 until the 29th of March: Friday 18:00 local is 17:00 UTC.
        (datetime(2026, 3, 6, 16, 59, tzinfo=UTC), None),  # Friday 17:59 local
        (datetime(2026, 3, 6, 17, 0, tzinfo=UTC), "2026-03-09T09:00:00+00:00"),
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "2026-03-09T09:00:00+00:00"),  # Sunday
        (datetime(2026, 3, 9, 8, 59, tzinfo=UTC), "2026-03-09T09:00:00+00:00"),  # +63h59m
        (datetime(2026, 3, 9, 9, 0, tzinfo=UTC), None),  # Monday 10:00 local: 64h later
        (datetime(2026, 3, 11, 12, 0, tzinfo=UTC), None),  # Wednesday
        # From the 29th Paris is UTC+2: Friday 18:00 local is 16:00 UTC.
        (datetime(2026, 4, 3, 15, 59, tzinfo=UTC), None),
        (datetime(2026, 4, 3, 16, 0, tzinfo=UTC), "2026-04-06T08:00:00+00:00"),
    ],
)
def test_a_cron_freeze_recurs_in_its_time_zone_even_under_auto(
    utc: datetime, until: str | None
) -> None:
    decision = _decide(_act(), policy=_policy(WEEKENDS), now=utc)
    if until is None:
        # Outside the freeze `auto` acts unasked on this allow-listed action.
        assert decision.allowed and not decision.requires_approval
    else:
        assert not decision.allowed
        assert decision.reason == (
            f"change freeze 'weekend' on production/auth-service until {until}"
        )


def test_a_cron_freeze_lasting_past_its_next_start_is_one_freeze() -> None:
    policy = _policy(
        "defaults: {autonomy: approve}\n"
        "freezes:\n  - {name: deploy week, cron: '0 9 * * MON-FRI', duration: 25h}\n"
    )
    # Windows from 09:00 Monday to 10:00 the next day overlap until Friday's ends.
    decision = _decide(_act(), policy=policy, now=datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    assert decision.reason.endswith("until 2026-03-07T10:00:00+00:00")
    assert _decide(_act(), policy=policy, now=datetime(2026, 3, 7, 10, 0, tzinfo=UTC)).allowed


# -- rate limits ----------------------------------------------------------------------


def _recent(*minutes_ago: int, service: str = "catalog") -> PolicyContext:
    return PolicyContext(
        recent=tuple(
            RecentAction("production", service, NOON - timedelta(minutes=m)) for m in minutes_ago
        )
    )


def test_a_rate_limit_counts_actions_on_the_service_within_the_window() -> None:
    assert _decide(_act("catalog"), context=_recent(5, 90, 120)).allowed
    refused = _decide(_act("catalog"), context=_recent(5, 50))
    assert not refused.allowed
    assert refused.reason == (
        "rate limit on production/catalog: 2 action(s) in the last 1h (at most 2)"
    )
    assert _decide(_act("catalog"), context=_recent(5, 50, service="other")).allowed


def test_recent_actions_skip_idempotent_retries_and_escalations() -> None:
    def execution(kind: ActionKind, status: ExecutionStatus) -> Execution:
        return Execution(_act("catalog", kind=kind), "k", status, NOON, NOON)

    counted = recent_actions(
        [
            execution(ActionKind.ROLLOUT_UNDO, ExecutionStatus.SUCCEEDED),
            execution(ActionKind.ROLLOUT_UNDO, ExecutionStatus.FAILED),
            execution(ActionKind.ROLLOUT_UNDO, ExecutionStatus.ALREADY_APPLIED),
            execution(ActionKind.REVERT_PR, ExecutionStatus.SUCCEEDED),
        ]
    )
    assert counted == (RecentAction("production", "catalog", NOON),) * 2


def test_the_longest_window_says_how_far_back_to_count() -> None:
    assert _policy().longest_rate_window == timedelta(hours=1)
    assert Policy().longest_rate_window == timedelta(0)


# -- who may approve ------------------------------------------------------------------


def test_only_named_approvers_may_approve() -> None:
    decision = _decide(_act("catalog"))
    check_approver(decision, "bob")
    with pytest.raises(ConflictError, match=r"'mallory' may not approve this plan.*alice, bob"):
        check_approver(decision, "mallory")


def test_without_named_approvers_any_user_may_approve() -> None:
    decision = _decide(_act("x", "y"), policy=Policy("approve"))
    check_approver(decision, "anyone")


def test_a_second_approver_must_be_someone_else() -> None:
    decision = _decide(_act(risk=Risk.HIGH))
    assert needs_another_approver(decision, "alice", [])
    with pytest.raises(ConflictError, match="'alice' already approved this plan"):
        needs_another_approver(decision, "alice", ["alice"])
    assert not needs_another_approver(decision, "carol", ["alice"])


def test_a_plan_needing_two_approvers_with_one_allowed_is_refused() -> None:
    policy = _policy(
        "rules:\n  - {autonomy: approve, approvers: {users: [solo]}, second_approver_for: [high]}\n"
    )
    decision = _decide(_act(risk=Risk.HIGH), policy=policy)
    assert not decision.allowed
    assert decision.reason == (
        "needs 2 different approver(s) allowed for every action; the policy names only: solo"
    )
