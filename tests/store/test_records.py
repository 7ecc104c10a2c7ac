"""What is recorded about an incident: timeline, diagnosis, plans, approvals, actions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from medic.domain import (
    ApprovalDecision,
    ConflictError,
    ExecutionStatus,
    NotFoundError,
    Postmortem,
    TimelineEntry,
    VerificationOutcome,
)
from medic.store import Store
from tests.store import builders
from tests.store.builders import T0


@pytest.fixture
def incident_store(store: Store) -> Store:
    store.create_incident(builders.incident())
    return store


def _entry(minutes: float, message: str) -> TimelineEntry:
    return TimelineEntry(
        at=T0 + timedelta(minutes=minutes), kind="note", message=message, data={"n": 1}
    )


def test_the_timeline_is_ordered_by_time_then_by_insertion(incident_store: Store) -> None:
    for entry in [_entry(2, "late"), _entry(1, "first at 1"), _entry(1, "second at 1")]:
        assert incident_store.add_timeline("inc-1", entry) is True
    assert [e.message for e in incident_store.timeline("inc-1")] == [
        "first at 1",
        "second at 1",
        "late",
    ]
    assert incident_store.timeline("inc-1")[0] == _entry(1, "first at 1")


def test_a_timeline_key_is_written_once_per_incident(incident_store: Store) -> None:
    assert incident_store.add_timeline("inc-1", _entry(1, "diagnosed"), key="diagnosis") is True
    assert incident_store.add_timeline("inc-1", _entry(2, "retried"), key="diagnosis") is False
    incident_store.create_incident(builders.incident("inc-2", "other"))
    assert incident_store.add_timeline("inc-2", _entry(1, "other"), key="diagnosis") is True
    assert [e.message for e in incident_store.timeline("inc-1")] == ["diagnosed"]


def test_writing_records_of_an_unknown_incident_is_an_error(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no incident 'inc-1'"):
        store.add_timeline("inc-1", _entry(1, "x"))
    with pytest.raises(NotFoundError):
        store.save_plan(builders.plan())
    with pytest.raises(NotFoundError):
        store.record_execution("inc-1", builders.execution())
    assert store.timeline("inc-1") == []


def test_the_current_plan_is_the_latest_saved_and_older_ones_are_kept(
    incident_store: Store,
) -> None:
    assert incident_store.plan("inc-1") is None
    first, second = builders.plan(rationale="first"), builders.plan(rationale="second")
    incident_store.save_plan(first)
    incident_store.save_plan(second)
    current = incident_store.plan("inc-1")
    assert current == second and current is not None and current.hash == second.hash
    assert incident_store.plans("inc-1") == [first, second]


def test_one_decision_per_plan_and_a_second_names_who_decided_first(
    incident_store: Store,
) -> None:
    plan = builders.plan()
    approval = builders.approval(plan.hash)
    assert incident_store.record_approval(approval) == approval
    # The very same approval again is a retried step, not a second decision.
    assert incident_store.record_approval(approval) == approval

    late = builders.approval(plan.hash, actor="bob@example.com", decision=ApprovalDecision.REJECTED)
    with pytest.raises(ConflictError, match=r"inc-1.*approved by 'alice@example.com'"):
        incident_store.record_approval(late)
    assert incident_store.approvals("inc-1") == [approval]

    # A new plan is a new question.
    newer = builders.approval(builders.plan(rationale="v2").hash, actor="bob@example.com")
    incident_store.record_approval(newer)
    assert incident_store.approvals("inc-1") == [approval, newer]


def test_an_execution_is_recorded_once_per_idempotency_key(incident_store: Store) -> None:
    first = builders.execution()
    incident_store.record_execution("inc-1", first)
    retried = dataclasses.replace(first, status=ExecutionStatus.ALREADY_APPLIED, detail="again")
    incident_store.record_execution("inc-1", retried)
    other = builders.execution(key="inc-1:scale_out:auth-service")
    incident_store.record_execution("inc-1", other)
    assert incident_store.executions("inc-1") == [first, other]


def test_diagnosis_verification_and_postmortem_latest_wins(incident_store: Store) -> None:
    assert incident_store.diagnosis("inc-1") is None
    assert incident_store.verification("inc-1") is None
    assert incident_store.postmortem("inc-1") is None

    incident_store.save_diagnosis(builders.diagnosis(summary="first look"))
    incident_store.save_diagnosis(builders.diagnosis(summary="second look"))
    incident_store.save_verification(
        "inc-1", builders.verification(VerificationOutcome.INCONCLUSIVE)
    )
    incident_store.save_verification("inc-1", builders.verification())
    postmortem = Postmortem(incident_id="inc-1", title="t", markdown="# md\n", path="/pm/inc-1.md")
    incident_store.save_postmortem(postmortem)

    assert incident_store.diagnosis("inc-1") == builders.diagnosis(summary="second look")
    assert incident_store.verification("inc-1") == builders.verification()
    assert incident_store.postmortem("inc-1") == postmortem


def test_times_come_back_timezone_aware_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    opened = datetime(2026, 6, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    store.create_incident(builders.incident(opened_at=opened))
    store.add_timeline("inc-1", TimelineEntry(at=opened, kind="k", message="m"))
    store.record_rejected("generic", "bad", b"", opened)

    read = store.get_incident("inc-1")
    for at in [read.opened_at, store.timeline("inc-1")[0].at, store.rejected()[0].at]:
        assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
        assert at == opened
        assert at == datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_times_in_different_offsets_sort_by_instant(store: Store) -> None:
    store.create_incident(builders.incident())
    tokyo = timezone(timedelta(hours=9))
    earlier = TimelineEntry(at=datetime(2026, 1, 1, 18, tzinfo=tokyo), kind="k", message="09:00Z")
    later = TimelineEntry(at=datetime(2026, 1, 1, 10, tzinfo=UTC), kind="k", message="10:00Z")
    store.add_timeline("inc-1", later)
    store.add_timeline("inc-1", earlier)
    assert [e.message for e in store.timeline("inc-1")] == ["09:00Z", "10:00Z"]
