"""Each fault type shows the symptoms a user of a real cluster would see, where they would
see them: on the faulty service, on its callers, and nowhere else."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from medic.domain.cluster import MetricName
from tests.sandbox.helpers import START
from tests.sandbox.shop import NS, after, before, log_text, mean, open_shop

CPU = MetricName.CPU_USAGE_CORES
P99 = MetricName.LATENCY_P99_SECONDS
ERR = MetricName.ERROR_RATIO
RPS = MetricName.REQUEST_RATE
MEM = MetricName.MEMORY_WORKING_SET_BYTES
UP = MetricName.AVAILABLE_REPLICAS


def _deploy(fault: str) -> str:
    return f"  - at: -20m\n    deploy: {{service: checkout, version: v2, fault: {fault}}}\n"


def test_cpu_hog_burns_cpu_and_slows_the_service_not_its_memory(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _deploy("{type: cpu_hog, extra_millicores: 600}"))
    assert after(sandbox, "checkout", CPU) > before(sandbox, "checkout", CPU) + 1.5
    assert after(sandbox, "checkout", P99) > 2 * before(sandbox, "checkout", P99)
    assert abs(after(sandbox, "checkout", MEM) / before(sandbox, "checkout", MEM) - 1) < 0.05
    assert "worker pool saturated" in log_text(sandbox, "checkout")


def test_latency_regression_slows_the_service_and_its_callers_with_flat_resources(
    tmp_path: Path,
) -> None:
    sandbox, _ = open_shop(tmp_path, _deploy("{type: latency_regression, added_ms: 300}"))
    for service in ("checkout", "web"):
        assert after(sandbox, service, P99) > before(sandbox, service, P99) + 0.25
    assert after(sandbox, "payments", P99) < 1.2 * before(sandbox, "payments", P99)
    assert abs(after(sandbox, "checkout", CPU) / before(sandbox, "checkout", CPU) - 1) < 0.15


def test_error_regression_raises_5xx_with_a_new_exception_in_the_logs(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _deploy("{type: error_regression, error_rate: 0.2}"))
    assert before(sandbox, "checkout", ERR) < 0.01
    assert 0.15 < after(sandbox, "checkout", ERR) < 0.3
    assert after(sandbox, "web", ERR) > 0.15  # the caller fails with it
    assert "Unhandled exception" in log_text(sandbox, "checkout")
    assert "Unhandled exception" not in log_text(sandbox, "web")


def test_crashloop_restarts_pods_and_drops_available_replicas(tmp_path: Path) -> None:
    sandbox, clock = open_shop(tmp_path, _deploy("{type: crashloop, reason: missing_env}"))
    assert after(sandbox, "checkout", UP) < 3
    assert after(sandbox, "checkout", MetricName.RESTARTS) >= 3
    pods = sandbox.cluster.pods(NS, "checkout")
    assert any(p.status == "CrashLoopBackOff" for p in pods)
    assert "DATABASE_URL is not set" in log_text(sandbox, "checkout", minutes=20, limit=5000)
    events = sandbox.events.events(NS, START - timedelta(minutes=25), START)
    reasons = {e.reason for e in events if "checkout" in e.object}
    assert {"BackOff", "ScalingReplicaSet", "Pulled"} <= reasons
    assert not sandbox.cluster.rollout_status(NS, "checkout").done
    # The right action: roll back; every replica is available again.
    sandbox.cluster.rollout_undo(NS, "checkout", 0, key="undo")
    clock.advance(5 * 60)
    assert sandbox.cluster.rollout_status(NS, "checkout").done
    assert all(p.ready for p in sandbox.cluster.pods(NS, "checkout"))
    assert mean(sandbox, "checkout", MetricName.RESTARTS, -1, 0) == 0


def test_bad_image_never_starts_and_says_so_in_events(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _deploy("{type: crashloop, reason: bad_image}"))
    events = sandbox.events.events(NS, START - timedelta(minutes=25), START)
    assert any(e.reason == "Failed" and "Failed to pull image" in e.message for e in events)
    assert any(p.status == "ImagePullBackOff" for p in sandbox.cluster.pods(NS, "checkout"))


def _fault(body: str, at: str = "-20m") -> str:
    return f"  - at: {at}\n    fault: {body}\n"


def test_dependency_outage_refuses_callers_and_a_restart_does_not_help(tmp_path: Path) -> None:
    sandbox, clock = open_shop(tmp_path, _fault("{type: dependency_outage, target: orders-db}"))
    assert after(sandbox, "orders-db", UP) == 0
    assert after(sandbox, "orders-db", RPS) == 0  # nothing reaches it
    assert after(sandbox, "checkout", ERR) > 0.9
    assert after(sandbox, "web", ERR) > 0.9
    assert before(sandbox, "web", ERR) < 0.02
    text = log_text(sandbox, "checkout")
    assert "orders-db" in text and "connect: connection refused" in text
    assert "connection refused" not in log_text(sandbox, "web")
    # A wrong action: restarting the caller changes nothing.
    sandbox.cluster.rollout_restart(NS, "checkout", key="restart")
    clock.advance(5 * 60)
    assert mean(sandbox, "web", ERR, -1, 0) > 0.9


def test_a_deploy_that_cannot_reach_a_dependency_breaks_only_its_calls(tmp_path: Path) -> None:
    sandbox, clock = open_shop(tmp_path, _deploy("{type: dependency_outage, target: payments}"))
    assert after(sandbox, "checkout", ERR) > 0.9
    assert after(sandbox, "orders-db", RPS) > 0.9 * before(sandbox, "orders-db", RPS)
    assert after(sandbox, "payments", RPS) < 1
    sandbox.cluster.rollout_undo(NS, "checkout", 0, key="undo")
    clock.advance(5 * 60)
    assert mean(sandbox, "web", ERR, -1, 0) < 0.02


def test_dependency_latency_slows_the_target_and_every_caller(tmp_path: Path) -> None:
    sandbox, _ = open_shop(
        tmp_path, _fault("{type: dependency_latency, target: payments, added_ms: 400}")
    )
    for service in ("payments", "checkout", "web"):
        assert after(sandbox, service, P99) > before(sandbox, service, P99) + 0.35
    assert after(sandbox, "orders-db", P99) < 1.2 * before(sandbox, "orders-db", P99)
    assert after(sandbox, "checkout", ERR) < 0.02


def test_traffic_surge_loads_the_path_without_a_change_and_scale_out_spreads_it(
    tmp_path: Path,
) -> None:
    sandbox, clock = open_shop(tmp_path, _fault("{type: traffic_surge, target: web, factor: 3}"))
    assert after(sandbox, "web", RPS) > 2.5 * before(sandbox, "web", RPS)
    assert after(sandbox, "checkout", CPU) > 2.5 * before(sandbox, "checkout", CPU)
    assert after(sandbox, "checkout", P99) > before(sandbox, "checkout", P99) + 0.04
    assert sandbox.changes.changes(NS, START - timedelta(minutes=40), START) == []
    surged = mean(sandbox, "checkout", P99, -2, 0)
    calm = before(sandbox, "web", RPS)
    sandbox.cluster.scale(NS, "checkout", 8, key="scale")
    clock.advance(5 * 60)
    assert mean(sandbox, "checkout", P99, -1, 0) < surged - 0.03
    assert mean(sandbox, "web", RPS, -1, 0) > 2.5 * calm  # the surge goes on


def test_pool_exhaustion_times_out_waiting_while_the_database_is_healthy(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _deploy("{type: connection_pool_exhaustion, pool_size: 2}"))
    assert after(sandbox, "checkout", ERR) > 0.3
    assert after(sandbox, "checkout", P99) > 1.0
    assert after(sandbox, "orders-db", ERR) < 0.01
    assert after(sandbox, "orders-db", P99) < 1.2 * before(sandbox, "orders-db", P99)
    assert "Connection is not available, request timed out" in log_text(sandbox, "checkout")


def test_disk_full_fails_writes_in_the_logs_and_the_error_ratio(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _fault("{type: disk_full, target: checkout}"))
    assert after(sandbox, "checkout", ERR) > 0.2
    assert "no space left on device" in log_text(sandbox, "checkout")


def test_cert_expiry_fails_the_callers_handshakes(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, _fault("{type: cert_expiry, target: checkout}"))
    assert after(sandbox, "web", ERR) > 0.9
    assert "x509: certificate has expired" in log_text(sandbox, "web")
    assert "TLS handshake error" in log_text(sandbox, "checkout")
    assert after(sandbox, "checkout", UP) == 3  # its pods are fine


def test_node_pressure_slows_only_the_pods_on_that_node_until_it_is_cordoned(
    tmp_path: Path,
) -> None:
    sandbox, clock = open_shop(
        tmp_path, _fault("{type: node_pressure, node: node-b, cpu_steal: 0.6}")
    )
    calm = before(sandbox, "web", P99)
    now = clock.now()
    series = sandbox.metrics.query_pods(NS, "web", P99, now - timedelta(minutes=3), now, 15)
    on_b = [s for s in series if s.labels["node"] == "node-b"]
    elsewhere = [s for s in series if s.labels["node"] != "node-b"]
    assert on_b and elsewhere
    for i in range(len(on_b[0].points)):  # at every instant, whichever the noise
        slowest_elsewhere = max(s.points[i].v for s in elsewhere)
        assert min(s.points[i].v for s in on_b) > slowest_elsewhere + 0.03
    assert {p.node for p in sandbox.cluster.pods(NS, "web")} == {"node-a", "node-b", "node-c"}
    assert sandbox.changes.changes(NS, START - timedelta(minutes=40), START) == []

    result = sandbox.cluster.cordon_node("node-b", key="cordon")
    assert result.applied and "web" in str(result.data["moved"])
    clock.advance(5 * 60)
    assert "node-b" not in {p.node for p in sandbox.cluster.pods(NS, "web")}
    assert mean(sandbox, "web", P99, -1, 0) < 1.2 * calm
    assert not sandbox.cluster.cordon_node("node-b", key="cordon").applied
