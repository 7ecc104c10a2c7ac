"""Timeline events besides deploys: scaling, blips, faults without a change, live events."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import numpy as np

from medic.domain.cluster import MetricName
from medic.domain.model import ChangeKind
from medic.sandbox import ManualClock, Sandbox
from tests.sandbox.helpers import START, memory_mb, open_seed, query, write

_EVENTS = """
name: events
seed: 11
history: 2h
services:
  - {name: web, entry_rps: 50, calls: [api], replicas: 2}
  - {name: api, replicas: 2, memory_mb: 200, memory_limit_mb: 2048}
timeline:
  - at: -100m
    scale: {service: web, replicas: 4}
  - at: -60m
    blip: {service: api, duration: 2m, factor: 5}
  - at: -40m
    fault: {type: memory_leak, target: api, params: {rate_mb_per_min: 3}}
  - at: 10m
    deploy: {service: web, version: v9}
"""


def _open(tmp_path: Path) -> tuple[Sandbox, ManualClock]:
    clock = ManualClock(START)
    return Sandbox.open(str(write(tmp_path, _EVENTS)), tmp_path / "state", clock=clock), clock


def test_scale_blip_and_a_fault_without_a_change(tmp_path: Path) -> None:
    sandbox, clock = _open(tmp_path)
    changes = sandbox.changes.changes("default", START - timedelta(hours=2), clock.now())
    assert [(c.kind, c.service) for c in changes] == [(ChangeKind.SCALE, "web")]
    replicas = query(sandbox, "web", MetricName.AVAILABLE_REPLICAS, timedelta(minutes=5))
    assert set(replicas.values()) == {4.0}

    latency = query(sandbox, "api", MetricName.LATENCY_P99_SECONDS, timedelta(hours=2)).values()
    blip = latency[240:248]  # -60m .. -58m
    calm = latency[100:200]
    assert min(blip) > 3 * float(np.median(calm))
    assert max(latency[260:400]) < 1.5 * float(np.median(calm))  # gone after two minutes

    memory = memory_mb(sandbox, "api", timedelta(hours=2))
    assert abs(memory[300] - memory[100]) < 15  # flat before the fault
    assert 100 < memory[-1] - memory[320] < 140  # ~3 MB/min for the last 40 minutes


def test_live_events_happen_when_their_time_comes(tmp_path: Path) -> None:
    sandbox, clock = _open(tmp_path)
    web = {s.name: s for s in sandbox.cluster.services("default")}["web"]
    assert web.version == "v1.0.0"
    clock.advance(11 * 60)
    web = {s.name: s for s in sandbox.cluster.services("default")}["web"]
    assert (web.version, web.revision) == ("v9", 2)
    changes = sandbox.changes.changes("default", START, clock.now())
    assert [(c.kind, c.version) for c in changes] == [(ChangeKind.DEPLOY, "v9")]


def test_concurrent_writes_apply_each_key_exactly_once(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path)
    results: list[bool] = []
    lock = threading.Lock()

    def scale(key: str, replicas: int) -> None:
        applied = sandbox.cluster.scale("production", "catalog", replicas, key=key).applied
        with lock:
            results.append(applied)

    threads = [threading.Thread(target=scale, args=(f"k{i % 3}", 3 + i % 3)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(True) == 3
    assert sorted(e.key for e in sandbox.journal()) == ["k0", "k1", "k2"]
