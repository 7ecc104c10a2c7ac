"""Two approvers of a plan that needs two, at the same instant: one is the first
approval, the other the final one; never both first with nothing decided."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from medic.action.audit import approval_entry, verify_chain
from medic.domain import Approval, ApprovalDecision, ConflictError
from medic.domain.audit import FIRST_APPROVAL, AuditKind
from medic.store import Store
from tests.store import builders
from tests.store.builders import T0

TRIALS = 25


def _approval(incident_id: str, actor: str) -> Approval:
    return Approval(
        incident_id=incident_id,
        plan_hash="p" * 64,
        decision=ApprovalDecision.APPROVED,
        actor=actor,
        at=T0 + timedelta(seconds=1),
        channel="api",
        reason="",
    )


def _approve(store: Store, incident_id: str, actor: str) -> Approval | ConflictError:
    approval = _approval(incident_id, actor)
    key = f"approval:{incident_id}:{approval.plan_hash}"
    first = approval_entry(approval, outcome=FIRST_APPROVAL)
    try:
        return store.record_approval_of_two(approval, first, approval_entry(approval), key)
    except ConflictError as exc:
        return exc


def _race(stores: list[Store], incident_id: str, actors: list[str]) -> list[object]:
    barrier = threading.Barrier(len(actors))

    def one(i: int) -> Approval | ConflictError:
        barrier.wait()
        return _approve(stores[i % len(stores)], incident_id, actors[i])

    with ThreadPoolExecutor(max_workers=len(actors)) as pool:
        return list(pool.map(one, range(len(actors))))


def _incident(store: Store, n: int) -> str:
    incident_id = f"inc-race-{n}"
    store.create_incident(replace(builders.incident(), id=incident_id, group_key=incident_id))
    return incident_id


@pytest.fixture
def stores(database_url: str) -> list[Store]:
    """Two stores (two engines, two connection pools): as two processes would be."""
    first = Store(database_url)
    first.migrate()
    return [first, Store(database_url)]


def _decisions(results: list[object]) -> list[str]:
    return sorted(r.decision.value if isinstance(r, Approval) else "409" for r in results)


def test_two_approvers_at_once_are_one_first_and_one_final(stores: list[Store]) -> None:
    store = stores[0]
    try:
        for n in range(TRIALS):
            incident_id = _incident(store, n)
            results = _race(stores, incident_id, ["alice", "bob"])
            assert _decisions(results) == ["approved", "pending"], (n, results)
            [decided] = store.approvals(incident_id)
            first = store.first_approval(incident_id, "p" * 64)
            assert first is not None and {first.actor, decided.actor} == {"alice", "bob"}
            audited = [
                e for e in store.audit.recent(10, incident_id) if e.kind is AuditKind.APPROVAL
            ]
            assert sorted(e.outcome for e in audited) == ["approved", FIRST_APPROVAL]
        assert verify_chain(store.audit.entries(), store.audit.head()).intact
    finally:
        for s in stores:
            s.close()


def test_three_approvers_at_once_leave_one_first_one_final_and_a_409(
    stores: list[Store],
) -> None:
    try:
        for n in range(TRIALS // 5):
            incident_id = _incident(stores[0], n)
            results = _race(stores, incident_id, ["alice", "bob", "carol"])
            assert _decisions(results) == ["409", "approved", "pending"], (n, results)
            [conflict] = [r for r in results if isinstance(r, ConflictError)]
            assert "already approved by" in str(conflict)
    finally:
        for s in stores:
            s.close()


def test_one_person_approving_twice_at_once_is_one_first_approval(stores: list[Store]) -> None:
    try:
        for n in range(TRIALS // 5):
            incident_id = _incident(stores[0], n)
            results = _race(stores, incident_id, ["alice", "alice"])
            # The very same approval again is a retry: both see the one first approval.
            assert _decisions(results) == ["pending", "pending"], (n, results)
            assert stores[0].approvals(incident_id) == []
            later = _approve(stores[0], incident_id, "alice")
            assert isinstance(later, Approval)  # still the same retry
            other = replace(_approval(incident_id, "alice"), at=T0 + timedelta(seconds=9))
            with pytest.raises(ConflictError, match="second, different approver"):
                stores[0].record_approval_of_two(
                    other, approval_entry(other), approval_entry(other), "k"
                )
    finally:
        for s in stores:
            s.close()


def test_a_plan_already_decided_takes_no_first_approval(stores: list[Store]) -> None:
    store = stores[0]
    try:
        incident_id = _incident(store, 0)
        store.record_approval(
            replace(_approval(incident_id, "carol"), decision=ApprovalDecision.REJECTED)
        )
        assert isinstance(_approve(store, incident_id, "alice"), ConflictError)
        assert store.first_approval(incident_id, "p" * 64) is None
    finally:
        for s in stores:
            s.close()
