"""After a rollback whose verification failed, the undo step keeps the rolled-back
version: re-deploying the version the diagnosis blamed is a human's decision."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from medic.domain import ActionKind
from medic.sandbox import Sandbox
from medic.store import Store
from medic.workflows import action_steps
from medic.workflows.context import uninstall
from tests.web.seed import seed_incident
from tests.workflows.sandbox_deps import install_sandbox_deps


@pytest.fixture
def store(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Store, Sandbox]]:
    store = Store(sqlite_url)
    store.migrate()
    sandbox = install_sandbox_deps(store, tmp_path)
    try:
        yield store, sandbox
    finally:
        uninstall()
        store.close()


def test_a_failed_rollback_is_not_undone_by_redeploying_the_blamed_version(
    store: tuple[Store, Sandbox],
) -> None:
    db, sandbox = store
    seeded = seed_incident(db, "inc-1")
    rollback = replace(
        seeded.immediate[0],
        params={"to_revision": 1, "from_revision": 2, "from_version": "v1.2.1"},
    )
    assert rollback.kind is ActionKind.ROLLOUT_UNDO
    plan = replace(seeded, immediate=(rollback,))
    db.save_plan(plan)
    action_steps.execute("inc-1", plan.hash, 0)
    version = sandbox.cluster.rollout_status("production", "auth-service")

    said = action_steps.undo("inc-1", plan.hash, 0)

    assert "kept, not undone" in said and "v1.2.1, the version the diagnosis blamed" in said
    assert [e.action.kind for e in db.executions("inc-1")] == [ActionKind.ROLLOUT_UNDO]
    assert sandbox.cluster.rollout_status("production", "auth-service") == version
    deployed = {s.name: s.version for s in sandbox.cluster.services("production")}
    assert deployed["auth-service"] == "v1.2.0"  # the safer version stays
    assert any(said in entry.message for entry in db.timeline("inc-1"))
