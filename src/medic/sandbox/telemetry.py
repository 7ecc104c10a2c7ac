"""Per-service telemetry as a pure function of (world, seed, instant).

Traffic enters at entry services with a daily seasonality, flows along the call
graph (every request of a caller makes one call to each callee); latency and errors
flow back up (a caller waits for its callees and fails when they fail). Resource
metrics come from the pods. Noise is a hash of (seed, service, metric, step index),
so values never depend on which queries ran before.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from medic.domain.cluster import MetricName
from medic.sandbox.noise import gauss
from medic.sandbox.pods import PodState, pods_at
from medic.sandbox.world import DeploymentTimeline, World

__all__ = ["Sample", "Telemetry", "topological_order"]

_MB = 1024.0 * 1024.0
_CACHE_INSTANTS = 20_000


@dataclass(frozen=True)
class Sample:
    """Every metric of one service at one instant; None where the service has no pods."""

    request_rate: float
    error_ratio: float
    latency_p99_seconds: float
    cpu_usage_cores: float | None
    memory_working_set_bytes: float | None
    memory_limit_bytes: float | None
    restarts: float | None
    available_replicas: float | None

    def get(self, metric: MetricName) -> float | None:
        value: float | None = getattr(self, metric.value)
        return value


class Telemetry:
    """Samples of one compiled world, cached per step index."""

    def __init__(self, world: World, origin: datetime) -> None:
        self.world = world
        self.origin_unix = origin.timestamp()
        self.seed = world.scenario.seed
        self.order = topological_order(world)
        self._cache: OrderedDict[int, dict[str, Sample]] = OrderedDict()
        self._lock = threading.Lock()

    def at_step(self, k: int) -> dict[str, Sample]:
        """Every service's sample at the k-th step after "now = 0" (k < 0: history)."""
        with self._lock:
            cached = self._cache.get(k)
        if cached is not None:
            return cached
        samples = self._compute(k)  # outside the lock: pure, a race only repeats work
        with self._lock:
            self._cache[k] = samples
            while len(self._cache) > _CACHE_INSTANTS:
                self._cache.popitem(last=False)
        return samples

    def _compute(self, k: int) -> dict[str, Sample]:
        t = k * self.world.scenario.step
        rates = self._rates(k, t)
        samples: dict[str, Sample] = {}
        for name in reversed(self.order):  # callees before callers
            timeline = self.world.deployments[name]
            samples[name] = self._sample(timeline, k, t, rates[name], samples)
        return samples

    def _rates(self, k: int, t: float) -> dict[str, float]:
        season = _season(self.origin_unix + t)
        rates: dict[str, float] = {}
        for name in self.order:  # callers before callees
            service = self.world.deployments[name].service
            inflow = service.entry_rps * season * (1.0 + 0.04 * gauss(self.seed, name, "entry", k))
            inflow += sum(rates[c] for c in self.order if name in self._calls(c) and c in rates)
            rates[name] = max(0.0, inflow * (1.0 + 0.02 * gauss(self.seed, name, "rps", k)))
        return rates

    def _calls(self, name: str) -> tuple[str, ...]:
        return self.world.deployments[name].service.calls

    def _sample(
        self,
        timeline: DeploymentTimeline,
        k: int,
        t: float,
        rate: float,
        below: dict[str, Sample],
    ) -> Sample:
        service, name, seed = timeline.service, timeline.service.name, self.seed
        pods = pods_at(self.world, name, t)
        running = [p for p in pods if p.running]
        pressure = max((p.memory_mb / p.limit_mb for p in running), default=0.0)
        blip = max((b.factor for b in timeline.blips if b.start <= t < b.end), default=1.0)
        # p99 of own work: a tail of twice the median, stretched by GC under memory pressure.
        own_ms = 2.0 * service.latency_ms * (1.0 + 3.0 * max(0.0, pressure - 0.4) ** 2) * blip
        own_ms *= 1.0 + 0.05 * gauss(seed, name, "latency", k)
        callees = [below[c] for c in service.calls]
        latency = own_ms / 1000.0 + sum(c.latency_p99_seconds for c in callees)
        desired = timeline.replicas_at(t)
        ready = sum(1 for p in pods if p.ready)
        down = 1.0 - min(1.0, ready / desired) if timeline.has_pods and desired else 0.0
        errors = service.error_ratio * (1.0 + 0.3 * gauss(seed, name, "errors", k))
        errors += 0.8 * down + (0.02 if blip > 1.0 else 0.0)
        errors += sum(c.error_ratio for c in callees)
        if not timeline.has_pods:
            return Sample(rate, _ratio(errors), latency, None, None, None, None, None)
        return Sample(
            request_rate=rate,
            error_ratio=_ratio(errors) if rate > 0 else 0.0,
            latency_p99_seconds=latency,
            cpu_usage_cores=self._cpu(name, k, running, rate, service.cpu_ms_per_request),
            memory_working_set_bytes=self._memory(name, k, running),
            memory_limit_bytes=timeline.generation_at(t).template.limit_mb * _MB,
            restarts=float(sum(p.restarts for p in pods)),
            available_replicas=float(ready),
        )

    def _cpu(
        self, name: str, k: int, running: list[PodState], rate: float, ms_per_request: float
    ) -> float:
        if not running:
            return 0.0
        per_pod = rate / len(running) * ms_per_request / 1000.0
        total = 0.0
        for pod in running:
            gc = 0.4 * max(0.0, pod.memory_mb / pod.limit_mb - 0.5)
            noise = 1.0 + 0.05 * gauss(self.seed, name, "cpu", pod.slot, k)
            total += (0.01 + per_pod + gc) * noise
        return total

    def _memory(self, name: str, k: int, running: list[PodState]) -> float:
        if not running:
            return 0.0
        # Noise never lifts a pod over its limit: there it would have been OOMKilled.
        return max(
            min(
                p.memory_mb * (1.0 + 0.005 * gauss(self.seed, name, "memory", p.slot, k)),
                p.limit_mb,
            )
            * _MB
            for p in running
        )


def topological_order(world: World) -> list[str]:
    """Callers before callees (scenario order among equals); the graph is acyclic."""
    services = world.scenario.services
    callers: dict[str, int] = {s.name: 0 for s in services}
    for s in services:
        for callee in s.calls:
            callers[callee] += 1
    ready = [s.name for s in services if callers[s.name] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for callee in world.deployments[name].service.calls:
            callers[callee] -= 1
            if callers[callee] == 0:
                ready.append(callee)
    return order


def _season(unix: float) -> float:
    """Daily traffic shape: +-15% around the mean, peaking mid-afternoon UTC."""
    hours = (unix % 86400.0) / 3600.0
    return 1.0 + 0.15 * math.sin(2.0 * math.pi * (hours - 9.0) / 24.0)


def _ratio(value: float) -> float:
    return min(1.0, max(0.0, value))
