"""Telemetry: deterministic, noisy, and showing the leak (and nothing on catalog)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from medic.domain.cluster import MetricName
from medic.sandbox import ManualClock, Sandbox
from tests.sandbox.helpers import MB, START, memory_mb, open_seed, query, write


def _slope_mb_per_min(values: list[float], step: float = 15.0) -> float:
    t = np.arange(len(values)) * step / 60.0
    return float(np.polyfit(t, np.asarray(values), 1)[0])


def test_same_seed_same_series_in_another_sandbox(tmp_path: Path) -> None:
    one, _ = open_seed(tmp_path / "one")
    two, _ = open_seed(tmp_path / "two")
    for metric in MetricName:
        a = query(one, "auth-service", metric, timedelta(hours=3))
        b = query(two, "auth-service", metric, timedelta(hours=3))
        assert a.points == b.points
        assert len(a.points) == 721


def test_overlapping_windows_agree_whatever_the_query_order(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    metric = MetricName.LATENCY_P99_SECONDS
    recent = query(sandbox, "api-gateway", metric, timedelta(minutes=30))
    whole = query(sandbox, "api-gateway", metric, timedelta(hours=3))
    assert dict((p.t, p.v) for p in whole.points if p.t >= recent.points[0].t) == {
        p.t: p.v for p in recent.points
    }
    coarse_recent = query(sandbox, "api-gateway", metric, timedelta(minutes=30), step=300)
    coarse_whole = query(sandbox, "api-gateway", metric, timedelta(hours=3), step=300)
    shared = {p.t: p.v for p in coarse_whole.points}
    assert coarse_recent.points and all(shared[p.t] == p.v for p in coarse_recent.points)
    assert len(coarse_whole.points) == 37  # buckets ending at -3h, -2h55m, ..., now


def test_series_are_noisy_not_flat(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    for metric in (MetricName.REQUEST_RATE, MetricName.CPU_USAGE_CORES, MetricName.ERROR_RATIO):
        values = query(sandbox, "catalog", metric, timedelta(minutes=30)).values()
        assert len(set(values)) > len(values) // 2


def test_traffic_flows_from_the_entry_along_the_calls(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    rate = {
        s: float(np.mean(query(sandbox, s, MetricName.REQUEST_RATE, timedelta(hours=1)).values()))
        for s in ("api-gateway", "auth-service", "users-db")
    }
    assert 100 < rate["api-gateway"] < 150
    assert abs(rate["auth-service"] - rate["api-gateway"]) < 0.1 * rate["api-gateway"]
    assert abs(rate["users-db"] - rate["auth-service"]) < 0.1 * rate["auth-service"]


def test_the_seed_leak_climbs_from_the_bad_deploy_at_its_rate(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    memory = memory_mb(sandbox, "auth-service", timedelta(hours=3))
    before, after = memory[: 720 - 300], memory[720 - 300 :]  # the deploy was at -75m
    assert 280 < np.median(before) < 320
    assert abs(_slope_mb_per_min(before)) < 0.1
    assert 3.6 < _slope_mb_per_min(after) < 4.4
    assert 570 < memory[-1] < 640
    limit = query(sandbox, "auth-service", MetricName.MEMORY_LIMIT_BYTES, timedelta(minutes=5))
    assert limit.values()[-1] == 1024 * MB
    latency = query(sandbox, "auth-service", MetricName.LATENCY_P99_SECONDS, timedelta(hours=3))
    lat = latency.values()
    assert np.mean(lat[-40:]) > 1.05 * np.mean(lat[:200])


def test_the_healthy_catalog_deploy_shows_no_anomaly(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    for metric in (
        MetricName.MEMORY_WORKING_SET_BYTES,
        MetricName.LATENCY_P99_SECONDS,
        MetricName.ERROR_RATIO,
        MetricName.CPU_USAGE_CORES,
    ):
        values = np.asarray(query(sandbox, "catalog", metric, timedelta(hours=1)).values())
        before, after = values[:160], values[160:]  # the deploy was at -20m
        spread = float(np.std(before))
        assert abs(float(np.mean(after)) - float(np.mean(before))) < 2 * spread, metric
    memory = memory_mb(sandbox, "catalog", timedelta(hours=1))
    assert abs(_slope_mb_per_min(memory)) < 0.05
    restarts = query(sandbox, "catalog", MetricName.RESTARTS, timedelta(hours=1)).values()
    assert set(restarts) == {0.0}


_FAST_LEAK = """
name: fast-leak
seed: 3
history: 2h
step: 15s
services:
  - {name: web, entry_rps: 20, calls: [api], replicas: 1}
  - {name: api, replicas: 1, memory_mb: 200, memory_limit_mb: 512}
timeline:
  - at: -90m
    deploy:
      service: api
      version: v2
      fault: {type: memory_leak, rate_mb_per_min: 10}
"""


def test_a_leak_reaching_the_limit_is_oomkilled_and_restarts(tmp_path: Path) -> None:
    path = write(tmp_path, _FAST_LEAK)
    sandbox = Sandbox.open(str(path), tmp_path / "state", clock=ManualClock(START))
    memory = memory_mb(sandbox, "api", timedelta(minutes=90))
    restarts = query(sandbox, "api", MetricName.RESTARTS, timedelta(minutes=90)).values()
    available = query(sandbox, "api", MetricName.AVAILABLE_REPLICAS, timedelta(minutes=90))
    # (512 - 200) / 10 MB/min: about 31 minutes per cycle -> two kills in 90 minutes.
    assert max(memory) <= 512
    assert max(memory) > 480
    assert restarts[0] == 0 and restarts[-1] == 2
    assert list(restarts) == sorted(restarts)
    assert 0.0 in available.values()  # the only replica is down while it restarts
    errors = query(sandbox, "web", MetricName.ERROR_RATIO, timedelta(minutes=90)).values()
    assert max(errors) > 0.5  # the caller fails while its callee is down
    drop = next(i for i in range(1, len(memory)) if memory[i] < memory[i - 1] - 100)
    assert memory[drop] < 260  # back near the baseline after the restart
    logs = sandbox.logs.lines("default", "api", START - timedelta(minutes=90), START, 10_000)
    oom = [line for line in logs if "out of memory" in line.message]
    assert len(oom) == 2 and all(line.level == "error" for line in oom)
    assert any("GC pause" in line.message for line in logs)


def test_gc_pauses_in_the_logs_grow_with_the_leak(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    now = clock.now()

    def pauses(at_minutes_ago: int) -> list[int]:
        end = now - timedelta(minutes=at_minutes_ago)
        lines = sandbox.logs.lines(
            "production", "auth-service", end - timedelta(minutes=2), end, 100
        )
        return [
            int(line.message.split()[2].removesuffix("ms"))
            for line in lines
            if line.message.startswith("GC pause")
        ]

    early, late = pauses(60), pauses(0)
    assert early and late
    assert min(late) > max(early)
    assert pauses(80) == []  # before the bad deploy the heap is calm


def test_nothing_is_reported_for_the_future_or_before_the_history(tmp_path: Path) -> None:
    sandbox, clock = open_seed(tmp_path)
    now = clock.now()
    future = sandbox.metrics.query(
        "production", "auth-service", MetricName.REQUEST_RATE, now, now + timedelta(hours=1), 15
    )
    assert [p.t for p in future.points] == [now.timestamp()]
    old = query(sandbox, "auth-service", MetricName.REQUEST_RATE, timedelta(hours=5))
    assert len(old.points) == 721
    assert (
        sandbox.metrics.query(
            "staging", "auth-service", MetricName.REQUEST_RATE, now - timedelta(hours=1), now, 15
        ).points
        == ()
    )
