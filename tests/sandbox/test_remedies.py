"""The new writes behave like their kubectl counterparts; a wrong action fixes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from medic.domain.cluster import MetricName
from medic.domain.errors import ConflictError, NotFoundError
from medic.domain.model import ChangeKind
from tests.sandbox.helpers import START, open_seed
from tests.sandbox.shop import NS, log_text, mean, open_shop

_BAD_CONFIG = """  - at: -20m
    config_change:
      service: checkout
      key: FEATURE_FLAGS
      value: "new-checkout=true"
      fault: {type: crashloop, reason: bad_config}
"""


def test_revert_config_restores_the_previous_value_and_removes_its_fault(tmp_path: Path) -> None:
    sandbox, clock = open_shop(tmp_path, _BAD_CONFIG)
    assert mean(sandbox, "checkout", MetricName.AVAILABLE_REPLICAS, -2, 0) < 3
    assert "invalid configuration" in log_text(sandbox, "checkout", minutes=20, limit=5000)

    result = sandbox.cluster.revert_config(NS, "checkout", key="revert", setting="FEATURE_FLAGS")
    assert result.applied and "unset FEATURE_FLAGS" in result.detail
    clock.advance(5 * 60)
    assert all(p.ready for p in sandbox.cluster.pods(NS, "checkout"))
    assert mean(sandbox, "web", MetricName.ERROR_RATIO, -1, 0) < 0.02
    kinds = [c.kind for c in sandbox.changes.changes(NS, START, clock.now())]
    assert kinds == [ChangeKind.CONFIG_CHANGE]
    assert not sandbox.cluster.revert_config(NS, "checkout", key="revert").applied


def test_a_restart_does_not_fix_a_bad_config(tmp_path: Path) -> None:
    sandbox, clock = open_shop(tmp_path, _BAD_CONFIG)
    sandbox.cluster.rollout_restart(NS, "checkout", key="restart")
    clock.advance(5 * 60)
    assert not all(p.ready for p in sandbox.cluster.pods(NS, "checkout"))
    assert mean(sandbox, "checkout", MetricName.AVAILABLE_REPLICAS, -1, 0) < 3


def test_revert_config_without_a_config_change_is_refused(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, "")
    with pytest.raises(ConflictError, match="no config change"):
        sandbox.cluster.revert_config(NS, "checkout", key="k")
    with pytest.raises(NotFoundError, match="no node"):
        sandbox.cluster.cordon_node("node-z", key="k2")
    assert sandbox.journal() == []


def test_raising_the_memory_limit_delays_the_oom_but_the_leak_goes_on(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    ns = "production"
    sandbox.cluster.set_memory_limit(ns, "auth-service", 4096, key="limit")
    clock.advance(60 * 60)
    restarts = mean(sandbox, "auth-service", MetricName.RESTARTS, -58, -57)
    assert mean(sandbox, "auth-service", MetricName.RESTARTS, -1, 0) == restarts  # no OOM
    memory = sandbox.metrics.query(
        ns,
        "auth-service",
        MetricName.MEMORY_WORKING_SET_BYTES,
        clock.now() - timedelta(minutes=1),
        clock.now(),
        15,
    ).values()
    assert memory[-1] / 1024**2 > 300 + 150  # still climbing at ~4 MB/min


def test_a_fast_leak_is_oomkilled_with_events_and_logs(tmp_path: Path) -> None:
    leak = "  - at: -30m\n    fault: {type: memory_leak, target: checkout, rate_mb_per_min: 150}\n"
    sandbox, _ = open_shop(tmp_path, leak)
    events = sandbox.events.events(NS, START - timedelta(minutes=30), START)
    oom = [e for e in events if e.reason == "OOMKilled"]
    assert oom and all(e.object.startswith("Pod/checkout-") for e in oom)
    assert any(e.reason == "BackOff" and e.object.startswith("Pod/checkout-") for e in events)
    assert events == sorted(events, key=lambda e: e.at)
    assert "container OOMKilled" in log_text(sandbox, "checkout", minutes=30, limit=10_000)
    assert "GC pause" in log_text(sandbox, "checkout", minutes=5)
    assert mean(sandbox, "checkout", MetricName.RESTARTS, -1, 0) >= 6


def test_rollouts_and_scaling_leave_kubernetes_events(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    events = sandbox.events.events("production", START - timedelta(minutes=30), START)
    scaling = [e for e in events if e.reason == "ScalingReplicaSet"]
    assert scaling and all(e.object == "Deployment/catalog" for e in scaling)
    assert {"Scheduled", "Pulled", "Started", "Killing"} <= {e.reason for e in events}
