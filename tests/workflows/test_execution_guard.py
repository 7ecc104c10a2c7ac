"""An approved plan handed straight to the execute step is still checked by the
executor: a database or an out-of-scope service is refused, recorded in the audit log
and the timeline, and the sandbox receives no write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from medic.domain import (
    ActionKind,
    ExecutionStatus,
    Hypothesis,
    Plan,
    RootCause,
    RootCauseCategory,
)
from medic.domain.audit import AuditKind
from medic.sandbox import Sandbox
from medic.store import Store
from medic.workflows import action_steps
from medic.workflows.context import uninstall
from tests.web.seed import seed_incident
from tests.workflows.sandbox_deps import install_sandbox_deps


@dataclass
class Rig:
    store: Store
    sandbox: Sandbox
    plan: Plan


@pytest.fixture
def rig(tmp_path: Path, sqlite_url: str) -> Iterator[Rig]:
    store = Store(sqlite_url)
    store.migrate()
    sandbox = install_sandbox_deps(store, tmp_path)
    plan = seed_incident(store, "inc-1")
    try:
        yield Rig(store, sandbox, plan)
    finally:
        uninstall()
        store.close()


def _suspect(rig: Rig, service: str) -> None:
    """The diagnosis names `service` too (a runner-up): it is inside the scope."""
    diagnosis = rig.store.diagnosis("inc-1")
    assert diagnosis is not None
    runner_up = Hypothesis(
        RootCause(service, RootCauseCategory.DEPENDENCY_FAILURE), 0.4, "slow queries", ("ev-1",)
    )
    rig.store.save_diagnosis(replace(diagnosis, hypotheses=(*diagnosis.hypotheses, runner_up)))


def _approved(rig: Rig, target: str, kind: ActionKind = ActionKind.ROLLOUT_RESTART) -> Plan:
    action = replace(rig.plan.immediate[0], kind=kind, target=target, params={})
    plan = replace(rig.plan, immediate=(action,))
    rig.store.save_plan(plan)
    return plan


@pytest.mark.parametrize(
    ("target", "why"),
    [("users-db", "database is stateful"), ("catalog", "outside the incident's scope")],
)
def test_the_execute_step_refuses_a_database_or_an_out_of_scope_target(
    rig: Rig, target: str, why: str
) -> None:
    _suspect(rig, "users-db")
    plan = _approved(rig, target)

    execution = action_steps.execute("inc-1", plan.hash, 0)

    assert execution.status is ExecutionStatus.REFUSED
    assert why in execution.detail
    assert rig.sandbox.journal() == []
    audited = [e for e in rig.store.audit.entries() if e.kind is AuditKind.EXECUTION]
    assert [e.outcome for e in audited] == ["refused"]
    notes = [t.message for t in rig.store.timeline("inc-1") if t.kind == "execution"]
    assert len(notes) == 1 and "refused" in notes[0] and why in notes[0]


def test_the_incidents_own_service_is_still_restarted(rig: Rig) -> None:
    plan = _approved(rig, "auth-service")

    execution = action_steps.execute("inc-1", plan.hash, 0)

    assert execution.status is ExecutionStatus.SUCCEEDED
    assert [(e.operation, e.target) for e in rig.sandbox.journal()] == [
        ("rollout_restart", "auth-service")
    ]
