"""A workflow step that runs again appends its audit entry once, and the chain stays
intact: the step wrapper's retry after a transient failure, and DBOS re-running a step
whose result a crash kept it from recording."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from medic.action.audit import verify_chain
from medic.domain import ExecutionStatus, Plan, TimelineEntry, TransientError
from medic.domain.audit import AuditKind
from medic.store import Store
from medic.workflows import action_steps
from medic.workflows.context import uninstall
from tests.web.seed import seed_incident
from tests.workflows.sandbox_deps import install_sandbox_deps


class FlakyTimeline(Store):
    """A store whose next `failures` timeline writes fail as a locked database does."""

    failures = 0

    def add_timeline(self, incident_id: str, entry: TimelineEntry, key: str | None = None) -> bool:
        if self.failures:
            self.failures -= 1
            raise TransientError("database is locked")
        return super().add_timeline(incident_id, entry, key)


@dataclass
class Rig:
    store: FlakyTimeline
    plan: Plan


@pytest.fixture
def rig(tmp_path: Path, sqlite_url: str) -> Iterator[Rig]:
    store = FlakyTimeline(sqlite_url)
    store.migrate()
    install_sandbox_deps(store, tmp_path)
    seeded = seed_incident(store, "inc-1")
    undo = replace(seeded.immediate[0], params={"to_revision": 1})  # back to v1.2.0
    plan = replace(seeded, immediate=(undo,))
    store.save_plan(plan)
    try:
        yield Rig(store, plan)
    finally:
        uninstall()
        store.close()


def _entries(store: Store, kind: AuditKind) -> list[str]:
    return [e.outcome for e in store.audit.entries() if e.kind is kind]


def _intact(store: Store) -> bool:
    return verify_chain(store.audit.entries(), store.audit.head()).intact


def test_a_step_retried_after_a_transient_failure_audits_its_action_once(rig: Rig) -> None:
    rig.store.failures = 1  # the timeline note after the audit entry fails once
    execution = action_steps.execute("inc-1", rig.plan.hash, 0)
    # Only the recording step is retried (the write is a step of its own, done once);
    # the audit keeps what the first run did.
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert _entries(rig.store, AuditKind.EXECUTION) == ["succeeded"]
    assert _intact(rig.store)


def test_a_step_run_again_after_a_crash_audits_once(rig: Rig) -> None:
    action_steps.execute("inc-1", rig.plan.hash, 0)
    action_steps.execute("inc-1", rig.plan.hash, 0)  # DBOS re-runs an unrecorded step
    action_steps.verify("inc-1", rig.plan.hash)
    action_steps.verify("inc-1", rig.plan.hash)
    assert _entries(rig.store, AuditKind.EXECUTION) == ["succeeded"]
    assert len(_entries(rig.store, AuditKind.VERIFICATION)) == 1
    assert _intact(rig.store)
