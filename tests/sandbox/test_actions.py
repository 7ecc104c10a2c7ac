"""Writes change the world from the current simulated time, once per key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from medic.domain.cluster import MetricName
from medic.domain.errors import ConflictError, InvalidInputError, NotFoundError, PermanentError
from medic.domain.model import ChangeKind
from medic.sandbox import ManualClock, Sandbox
from tests.sandbox.helpers import MB, SEED, START, memory_mb, open_seed, query

NS = "production"


def test_rollout_undo_restores_the_old_version_and_memory_returns_to_baseline(
    tmp_path: Path,
) -> None:
    sandbox, clock = open_seed(tmp_path)
    result = sandbox.cluster.rollout_undo(NS, "auth-service", 1, key="undo-1")
    assert result.applied
    assert result.data["version"] == "v1.2.0"

    history = sandbox.cluster.rollout_history(NS, "auth-service")
    # As Kubernetes does: revision 1 becomes revision 3.
    assert [(r.number, r.version) for r in history] == [(2, "v1.2.1"), (3, "v1.2.0")]
    info = {s.name: s for s in sandbox.cluster.services(NS)}["auth-service"]
    assert (info.version, info.revision) == ("v1.2.0", 3)

    status = sandbox.cluster.rollout_status(NS, "auth-service")
    assert not status.done and status.updated_replicas == 0
    clock.advance(60)
    status = sandbox.cluster.rollout_status(NS, "auth-service")
    assert status.done and status.updated_replicas == status.desired_replicas == 2

    clock.advance(20 * 60)
    memory = memory_mb(sandbox, "auth-service", timedelta(minutes=15))
    assert max(memory) < 320
    assert abs(float(np.polyfit(np.arange(len(memory)) / 4.0, memory, 1)[0])) < 0.1

    changes = sandbox.changes.changes(NS, START - timedelta(minutes=1), clock.now())
    assert [(c.kind, c.version, c.previous_version) for c in changes] == [
        (ChangeKind.DEPLOY, "v1.2.0", "v1.2.1")
    ]


def test_rollout_restart_resets_memory_but_the_leak_goes_on(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    assert sandbox.cluster.rollout_restart(NS, "auth-service", key="restart-1").applied
    clock.advance(60)
    fresh = memory_mb(sandbox, "auth-service", timedelta(seconds=15))[-1]
    assert fresh < 340
    clock.advance(30 * 60)
    later = memory_mb(sandbox, "auth-service", timedelta(minutes=1))[-1]
    assert later > fresh + 100  # ~4 MB/min again
    info = {s.name: s for s in sandbox.cluster.services(NS)}["auth-service"]
    assert info.version == "v1.2.1"


def test_the_past_does_not_change_after_a_write(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    before = query(sandbox, "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, timedelta(hours=1))
    sandbox.cluster.rollout_undo(NS, "auth-service", 1, key="undo")
    clock.advance(600)
    after = query(
        sandbox,
        "auth-service",
        MetricName.MEMORY_WORKING_SET_BYTES,
        timedelta(hours=1),
        until=START,
    )
    assert after.points == before.points


def test_scale_and_memory_limit(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    assert sandbox.cluster.scale(NS, "catalog", 4, key="scale").applied
    assert sandbox.cluster.set_memory_limit(NS, "auth-service", 2048, key="limit").applied
    clock.advance(120)
    info = {s.name: s for s in sandbox.cluster.services(NS)}
    assert info["catalog"].replicas == 4
    available = query(sandbox, "catalog", MetricName.AVAILABLE_REPLICAS, timedelta(seconds=1))
    assert available.values() == [4.0]
    limit = query(sandbox, "auth-service", MetricName.MEMORY_LIMIT_BYTES, timedelta(seconds=1))
    assert limit.values() == [2048 * MB]
    kinds = [c.kind for c in sandbox.changes.changes(NS, START, clock.now())]
    assert kinds == [ChangeKind.SCALE, ChangeKind.DEPLOY]


def test_a_key_is_applied_once(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    assert sandbox.cluster.rollout_undo(NS, "auth-service", 1, key="k").applied
    clock.advance(30)
    again = sandbox.cluster.rollout_undo(NS, "auth-service", 1, key="k")
    assert not again.applied
    assert "already applied" in again.detail
    assert len(sandbox.cluster.rollout_history(NS, "auth-service")) == 2
    assert [e.key for e in sandbox.journal()] == ["k"]


def test_keys_and_the_world_survive_reopening_the_state_dir(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    sandbox.cluster.rollout_undo(NS, "auth-service", 1, key="undo-key")
    clock.advance(300)
    reopened = Sandbox.open(SEED, tmp_path, clock=clock)
    assert not reopened.cluster.rollout_undo(NS, "auth-service", 1, key="undo-key").applied
    assert [e.key for e in reopened.journal()] == ["undo-key"]
    assert reopened.journal()[0].at == START
    info = {s.name: s for s in reopened.cluster.services(NS)}["auth-service"]
    assert info.version == "v1.2.0"
    assert reopened.origin == sandbox.origin
    # A process restarted later (on its own clock) keeps the same "now = 0".
    late = Sandbox.open(SEED, tmp_path, clock=ManualClock(START + timedelta(hours=1)))
    assert late.origin == START


def test_bad_targets_are_permanent_errors(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    with pytest.raises(NotFoundError, match="no deployment production/auth"):
        sandbox.cluster.rollout_undo(NS, "auth", 1, key="a")
    with pytest.raises(NotFoundError, match="no revision 7"):
        sandbox.cluster.rollout_undo(NS, "auth-service", 7, key="b")
    with pytest.raises(ConflictError, match="already runs revision 2"):
        sandbox.cluster.rollout_undo(NS, "auth-service", 2, key="c")
    with pytest.raises(NotFoundError, match="namespace"):
        sandbox.cluster.rollout_restart("staging", "auth-service", key="d")
    with pytest.raises(InvalidInputError):
        sandbox.cluster.scale(NS, "catalog", -1, key="e")
    with pytest.raises(PermanentError):
        sandbox.cluster.rollout_history(NS, "nope")
    assert sandbox.journal() == []


def test_undo_to_revision_zero_means_the_previous_one(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    result = sandbox.cluster.rollout_undo(NS, "catalog", 0, key="prev")
    assert result.data["to_revision"] == 1
    assert result.data["version"] == "v3.0.0"


def test_another_scenario_in_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    open_seed(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(
        "name: other\nhistory: 1h\nservices: [{name: web, entry_rps: 1}]\n", encoding="utf-8"
    )
    with pytest.raises(ConflictError, match="auth-memory-leak-after-deploy"):
        Sandbox.open(str(other), tmp_path, clock=ManualClock(START))
