"""The audit log in the store: append-only, one chain under concurrent appenders, and
tampering through raw SQL found by verification. The kill switch is stored here too."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from medic.action.audit import ChainReport, verify_chain
from medic.domain import ExecutionStatus, PermanentError
from medic.domain.audit import AuditDraft, AuditKind, chain_hash
from medic.store import Store
from medic.store.audit_seal import AuditSeal, load_key, read_checkpoints
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


# -- the keyed seal and the checkpoints outside the database ---------------------------


@dataclass
class Sealed:
    store: Store
    url: str
    key: bytes
    checkpoints: Path

    def report(self, key: bytes | None = None) -> ChainReport:
        found, bad = read_checkpoints(self.checkpoints)
        assert bad == []
        entries, head = self.store.audit.entries(), self.store.audit.head()
        return verify_chain(entries, head, key or self.key, found)


@pytest.fixture
def sealed(database_url: str, tmp_path: Path) -> Iterator[Sealed]:
    key = load_key(tmp_path / "audit.key", create=True)
    assert key is not None
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    with Store(database_url, AuditSeal(key, checkpoints)) as store:
        store.migrate()
        for n in range(4):
            store.audit.append(_draft(n, actor="alice" if n == 1 else "medic"))
        yield Sealed(store, database_url, key, checkpoints)


def test_a_sealed_log_verifies_and_says_what_it_proves(sealed: Sealed) -> None:
    report = sealed.report()
    assert report.intact and report.sealed == 4 and report.legacy == 0
    assert report.checkpoint is not None and report.checkpoint.seq == 4
    assert "chain intact up to checkpoint 4" in " ".join(report.proofs())
    assert all(e.mac for e in sealed.store.audit.entries())


def test_deleting_every_row_and_the_head_is_found(sealed: Sealed) -> None:
    _sql(sealed.url, "DELETE FROM medic_audit", "DELETE FROM medic_audit_head")
    report = sealed.report()
    assert not report.intact and report.broken_seq == 1
    assert "checkpoint shows entry 4 existed" in report.problem


def test_rewinding_the_head_after_deleting_the_last_row_is_found(sealed: Sealed) -> None:
    third = next(e for e in sealed.store.audit.entries() if e.seq == 3)
    _sql(
        sealed.url,
        "DELETE FROM medic_audit WHERE seq = 4",
        f"UPDATE medic_audit_head SET seq = 3, hash = '{third.hash}'",
    )
    report = sealed.report()
    assert report.broken_seq == 4 and "entries deleted" in report.problem


def test_rewriting_an_actor_and_recomputing_the_chain_without_the_key_is_found(
    sealed: Sealed,
) -> None:
    entries = list(sealed.store.audit.entries())
    prev, statements = entries[0].hash, []
    for entry in entries[1:]:
        draft = replace(entry.draft, actor="mallory") if entry.seq == 2 else entry.draft
        new = chain_hash(prev, entry.seq, draft)
        statements.append(
            f"UPDATE medic_audit SET actor = '{draft.actor}', prev_hash = '{prev}', "
            f"hash = '{new}' WHERE seq = {entry.seq}"
        )
        prev = new
    _sql(sealed.url, *statements, f"UPDATE medic_audit_head SET hash = '{prev}'")
    report = sealed.report()
    assert report.broken_seq == 2 and "seal does not match the audit key" in report.problem
    # Without the seal column too, the checkpoint of entry 4 still tells.
    _sql(sealed.url, "UPDATE medic_audit SET mac = NULL")
    assert not sealed.report().intact


def test_nested_data_is_kept_hashed_and_its_change_found(sealed: Sealed) -> None:
    nested = replace(_draft(9), data={"action": {"target": "auth", "params": {"b": 2, "a": [1]}}})
    entry = sealed.store.audit.append(nested)
    assert list(sealed.store.audit.entries())[-1] == entry
    assert entry.data == nested.data
    assert sealed.report().intact
    changed = '{"action": {"target": "auth", "params": {"b": 3, "a": [1]}}}'
    _sql(sealed.url, f"UPDATE medic_audit SET data = '{changed}' WHERE seq = {entry.seq}")
    report = sealed.report()
    assert report.broken_seq == entry.seq and "edited" in report.problem


def test_removed_or_forged_checkpoints_are_found(sealed: Sealed) -> None:
    lines = sealed.checkpoints.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"seq": 9}
    sealed.checkpoints.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    assert "forged" in sealed.report().problem
    sealed.checkpoints.unlink()
    assert "no checkpoint was found" in sealed.report().problem


def test_another_key_breaks_every_seal(sealed: Sealed) -> None:
    assert not sealed.report(key=b"k" * 32).intact


def test_entries_from_before_the_key_are_reported_as_unkeyed(
    database_url: str, tmp_path: Path
) -> None:
    with Store(database_url) as legacy:
        legacy.migrate()
        legacy.audit.append(_draft(0))
        legacy.audit.append(_draft(1))
    checkpoints = tmp_path / "cp.jsonl"
    with Store(database_url, AuditSeal(b"s" * 32, checkpoints)) as store:
        store.audit.append(_draft(2))
        found, _ = read_checkpoints(checkpoints)
        report = verify_chain(store.audit.entries(), store.audit.head(), b"s" * 32, found)
        assert report.intact and (report.legacy, report.sealed) == (2, 1)
        assert "entries 1-2 predate the audit key" in report.proofs()[0]
        # An unsealed entry after sealed ones is an insertion without the key.
        with Store(database_url) as unkeyed:
            unkeyed.audit.append(_draft(3))
        found, _ = read_checkpoints(checkpoints)
        report = verify_chain(store.audit.entries(), store.audit.head(), b"s" * 32, found)
        assert report.broken_seq == 4 and "not sealed" in report.problem


def test_the_key_file_is_private_and_made_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    key = load_key(path, create=True)
    assert key is not None and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path, create=True) == key
    path.chmod(0o644)
    with pytest.raises(PermanentError, match="chmod 600"):
        load_key(path, create=False)
    assert load_key(tmp_path / "none.key", create=False) is None
