"""The audit log in the store: append-only, one chain under concurrent appenders, and
tampering through raw SQL found by verification. The kill switch is stored here too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import create_engine, text

from medic.action.audit import verify_chain
from medic.domain import ExecutionStatus
from medic.domain.audit import AuditDraft, AuditKind
from medic.store import Store
from tests.store import builders
from tests.store.builders import T0


def _draft(n: int, actor: str = "medic") -> AuditDraft:
    return AuditDraft(
        at=T0 + timedelta(seconds=n, microseconds=123),
        actor=actor,
        kind=AuditKind.EXECUTION,
        outcome="succeeded",
        incident_id="inc-1",
        plan_hash="ab" * 32,
        data={"n": n, "detail": "rollout undo: ok ✓", "ratio": 0.1, "none": None},
    )


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _verify(store: Store) -> tuple[int | None, str]:
    report = verify_chain(store.audit.entries(), store.audit.head())
    return report.broken_seq, report.problem


def test_appended_entries_read_back_exactly_and_verify(store: Store) -> None:
    appended = [store.audit.append(_draft(n)) for n in range(3)]
    assert [e.seq for e in appended] == [1, 2, 3]
    assert list(store.audit.entries()) == appended
    assert store.audit.recent(2) == appended[:0:-1]
    assert store.audit.head() == (3, appended[-1].hash)
    assert _verify(store) == (None, "")


def test_an_edited_row_is_found(store: Store, database_url: str) -> None:
    for n in range(4):
        store.audit.append(_draft(n))
    _sql(database_url, "UPDATE medic_audit SET actor = 'someone-else' WHERE seq = 2")
    seq, problem = _verify(store)
    assert seq == 2 and "edited" in problem


def test_a_deleted_row_is_found(store: Store, database_url: str) -> None:
    for n in range(4):
        store.audit.append(_draft(n))
    _sql(database_url, "DELETE FROM medic_audit WHERE seq = 3")
    assert _verify(store)[0] == 3


def test_a_deleted_tail_is_found(store: Store, database_url: str) -> None:
    for n in range(4):
        store.audit.append(_draft(n))
    _sql(database_url, "DELETE FROM medic_audit WHERE seq = 4")
    seq, problem = _verify(store)
    assert seq == 4 and "entries deleted" in problem


def test_reordered_rows_are_found(store: Store, database_url: str) -> None:
    for n in range(4):
        store.audit.append(_draft(n))
    _sql(
        database_url,
        "UPDATE medic_audit SET seq = 100 WHERE seq = 2",
        "UPDATE medic_audit SET seq = 2 WHERE seq = 3",
        "UPDATE medic_audit SET seq = 3 WHERE seq = 100",
    )
    assert _verify(store)[0] == 2


def test_concurrent_appenders_extend_one_chain(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(3)]
    stores[0].migrate()
    barrier = threading.Barrier(6)

    def append(worker: int) -> None:
        barrier.wait()
        for n in range(10):
            stores[worker % 3].audit.append(_draft(n, actor=f"worker-{worker}"))

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(append, range(6)))
        entries = list(stores[0].audit.entries())
        assert [e.seq for e in entries] == list(range(1, 61))
        assert _verify(stores[0]) == (None, "")
    finally:
        for store in stores:
            store.close()


def test_the_kill_switch_is_shared_and_audited(store: Store, database_url: str) -> None:
    assert not store.control.pause_state().paused
    store.control.set_paused(True, "alice", "db maintenance", T0)
    with Store(database_url) as other:  # another process sees the same switch
        state = other.control.pause_state()
        assert (state.paused, state.actor, state.reason, state.at) == (
            True,
            "alice",
            "db maintenance",
            T0,
        )
        other.control.set_paused(False, "bob", "", T0 + timedelta(minutes=5))
    assert not store.control.pause_state().paused
    flips = [(e.kind, e.outcome, e.actor) for e in store.audit.entries()]
    assert flips == [
        (AuditKind.CONTROL, "paused", "alice"),
        (AuditKind.CONTROL, "resumed", "bob"),
    ]
    assert _verify(store) == (None, "")


def test_recent_executions_are_read_for_rate_limits(store: Store) -> None:
    store.create_incident(builders.incident())
    early = builders.execution()
    late = replace(
        builders.execution("later"),
        started_at=early.started_at + timedelta(hours=2),
        finished_at=early.finished_at + timedelta(hours=2),
    )
    retry = replace(late, idempotency_key="retry", status=ExecutionStatus.ALREADY_APPLIED)
    store.record_execution("inc-1", early)
    store.record_execution("inc-1", late)
    store.record_execution("inc-1", retry)
    since = early.started_at + timedelta(hours=1)
    assert store.control.executions_since(since) == [late]


def test_first_approvals_are_read_back_for_a_second_approver(store: Store) -> None:
    first = AuditDraft(
        at=T0,
        actor="alice",
        kind=AuditKind.APPROVAL,
        outcome="first-approval",
        incident_id="inc-1",
        plan_hash="p1",
    )
    store.audit.append(first)
    store.audit.append(replace(first, plan_hash="p2", actor="bob"))
    assert store.audit.approvers("inc-1", "p1", "first-approval") == ["alice"]


def test_a_keyed_entry_appended_twice_is_one_entry_and_the_chain_stays_valid(
    store: Store,
) -> None:
    first = store.audit.append(_draft(1), key="execution:inc-1:ab:now:0")
    # A step re-run after a crash: same key, and what it found has changed meanwhile.
    again = store.audit.append(
        replace(_draft(2), outcome="already_applied"), key="execution:inc-1:ab:now:0"
    )
    assert again == first
    later = store.audit.append(_draft(3), key="verification:inc-1:ab")
    unkeyed = [store.audit.append(_draft(4)), store.audit.append(_draft(4))]
    entries = list(store.audit.entries())
    assert entries == [first, later, *unkeyed]
    assert [e.outcome for e in entries] == ["succeeded"] * 4
    assert store.audit.head() == (4, unkeyed[-1].hash)
    assert _verify(store) == (None, "")


def test_concurrent_appenders_of_one_key_append_it_once(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(3)]
    stores[0].migrate()
    barrier = threading.Barrier(6)

    def append(worker: int) -> None:
        barrier.wait()
        for n in range(5):
            stores[worker % 3].audit.append(_draft(n, actor=f"worker-{worker}"), key=f"k{n}")

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(append, range(6)))
        entries = list(stores[0].audit.entries())
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
        assert sorted(int(str(e.data["n"])) for e in entries) == [0, 1, 2, 3, 4]
        assert _verify(stores[0]) == (None, "")
    finally:
        for store in stores:
            store.close()
