"""The audit chain, pure: sealing, verification, and what each kind of tampering looks like."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from medic.action.audit import export_line, plan_entry, verify_chain
from medic.domain.audit import GENESIS_HASH, AuditDraft, AuditEntry, AuditKind, seal
from tests.action import builders
from tests.action.fakes import T0


def _chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for i in range(length):
        draft = AuditDraft(
            at=T0 + timedelta(seconds=i),
            actor="medic",
            kind=AuditKind.EXECUTION,
            outcome="succeeded",
            incident_id="inc-1",
            data={"n": i},
        )
        entries.append(seal(draft, i + 1, prev))
        prev = entries[-1].hash
    return entries


def _head(entries: list[AuditEntry]) -> tuple[int, str]:
    return entries[-1].seq, entries[-1].hash


def test_an_untouched_chain_is_intact() -> None:
    entries = _chain(5)
    report = verify_chain(entries, _head(entries))
    assert report.intact and report.checked == 5


def test_an_empty_log_is_intact() -> None:
    assert verify_chain([], None).intact
    assert verify_chain([], (0, GENESIS_HASH)).intact


def test_an_edited_field_breaks_the_chain_at_that_entry() -> None:
    entries = _chain(5)
    head = _head(entries)
    entries[2] = replace(entries[2], outcome="failed")
    report = verify_chain(entries, head)
    assert (report.broken_seq, report.checked) == (3, 2)
    assert "do not match its hash (edited)" in report.problem


def test_a_deleted_entry_is_found() -> None:
    entries = _chain(5)
    head = _head(entries)
    del entries[1]
    report = verify_chain(entries, head)
    assert report.broken_seq == 2
    assert report.problem == "entry 2 is missing (deleted); the log jumps to 3"


def test_entries_swapped_in_place_are_found() -> None:
    entries = _chain(5)
    head = _head(entries)
    a, b = entries[1], entries[3]
    entries[1], entries[3] = replace(b, seq=2), replace(a, seq=4)
    report = verify_chain(entries, head)
    assert report.broken_seq == 2


def test_a_cut_off_tail_is_found_through_the_head() -> None:
    entries = _chain(5)
    report = verify_chain(entries[:3], _head(entries))
    assert report.broken_seq == 4
    assert "entries deleted" in report.problem


def test_a_rehashed_entry_does_not_follow_its_predecessor() -> None:
    entries = _chain(3)
    forged = seal(replace(entries[1].draft, outcome="failed"), 2, "f" * 64)
    report = verify_chain([entries[0], forged, entries[2]], _head(entries))
    assert report.broken_seq == 2
    assert "does not follow the previous entry" in report.problem


def test_the_hash_covers_the_time_to_the_microsecond() -> None:
    draft = _chain(1)[0].draft
    later = replace(draft, at=draft.at + timedelta(microseconds=1))
    assert seal(draft, 1, GENESIS_HASH).hash != seal(later, 1, GENESIS_HASH).hash


def test_a_plan_entry_names_the_plan_and_its_hash_and_exports_as_one_json_line() -> None:
    plan = builders.plan()
    entry = seal(plan_entry(plan, T0), 1, GENESIS_HASH)
    line = export_line(entry)
    assert "\n" not in line
    assert f'"plan_hash": "{plan.hash}"' in line
    assert '"immediate": "rollout_undo production/auth-service"' in line
