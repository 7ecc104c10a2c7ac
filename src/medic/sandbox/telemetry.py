"""Per-service and per-pod telemetry as a pure function of (world, seed, instant).

Traffic enters at entry services with a daily seasonality (and any surge), flows
along the call graph (every request a caller serves makes one call to each callee
it can reach); latency and errors flow back up (a caller waits for its callees and
fails when they fail or refuse). Each pod's latency is its own work, stretched by
CPU saturation (its load against its CPU limit, less what its node steals) and by GC
under memory pressure, plus what its faults add; a service's p99 is its slowest
ready pod's. Noise is a hash of (seed, service, metric, step index), so values never
depend on which queries ran before.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from medic.domain.cluster import MetricName
from medic.sandbox.edges import Edge, callee_state, datastore_of, edge, pool_fault
from medic.sandbox.faults import DependencyLatency, Fault
from medic.sandbox.noise import gauss, gauss_pair
from medic.sandbox.pods import PodState, pods_at
from medic.sandbox.world import DeploymentTimeline, World

__all__ = ["PodSample", "Sample", "Telemetry", "topological_order"]

_MB = 1024.0 * 1024.0
_CACHE_INSTANTS = 20_000
_DISK_FULL = 0.99  # what a full filesystem reports: the root-reserved blocks stay free
_MAX_SATURATION = 0.95  # past this a pod queues; latency stops at 1 / (1 - 0.95)
_FAIL_FAST_S = {"refused": 0.001, "tls": 0.004}


@dataclass(frozen=True)
class PodSample:
    """One pod at one instant (what cAdvisor and the pod's own /metrics would say)."""

    pod: str
    node: str
    ready: bool
    running: bool
    restarts: int
    request_rate: float
    error_ratio: float
    latency_p99_seconds: float
    cpu_usage_cores: float
    cpu_throttled_ratio: float  # share of CFS periods throttled
    memory_working_set_bytes: float
    disk_usage_ratio: float = 0.0  # the container filesystem's used share


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
    pods: tuple[PodSample, ...] = ()
    edges: tuple[tuple[str, Edge], ...] = field(default=())  # (callee, what calls to it met)
    saturation: float | None = None  # the most throttled pod's share of CFS periods
    disk_usage_ratio: float | None = None  # the fullest pod filesystem's used share

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
        self.kinds = {s.name: s.kind.value for s in world.scenario.services}
        self._cache: OrderedDict[int, dict[str, Sample]] = OrderedDict()
        self._lock = threading.Lock()

    def inherit(self, previous: Telemetry, before: float) -> None:
        """Take `previous`'s samples of the steps before `before` (seconds after "now =
        0"): a world recompiled for a write or an event that happened then is the
        same world up to that moment."""
        step = self.world.scenario.step
        with previous._lock:
            kept = [(k, v) for k, v in previous._cache.items() if k * step < before]
        with self._lock:
            for k, samples in kept:
                self._cache.setdefault(k, samples)

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
        pods = {name: pods_at(self.world, name, t) for name in self.order}
        states = {
            name: callee_state(self.world.deployments[name], pods[name], t) for name in self.order
        }
        edges: dict[str, dict[str, Edge]] = {}
        for name in self.order:
            timeline = self.world.deployments[name]
            edges[name] = {
                c: edge(timeline, pods[name], c, states[c], t) for c in timeline.service.calls
            }
        rates = self._rates(k, t, pods, edges)
        samples: dict[str, Sample] = {}
        for name in reversed(self.order):  # callees before callers
            timeline = self.world.deployments[name]
            samples[name] = self._sample(
                timeline, k, t, rates[name], pods[name], edges[name], samples
            )
        return samples

    def _rates(
        self,
        k: int,
        t: float,
        pods: dict[str, list[PodState]],
        edges: dict[str, dict[str, Edge]],
    ) -> dict[str, float]:
        """Requests per second each service serves (callers before callees)."""
        season = _season(self.origin_unix + t)
        offered: dict[str, float] = {name: 0.0 for name in self.order}
        served: dict[str, float] = {}
        for name in self.order:
            timeline = self.world.deployments[name]
            service = timeline.service
            surge = math.prod(f.traffic_factor() for f in _service_faults(timeline, t))
            inflow = service.entry_rps * season * surge
            inflow *= 1.0 + 0.04 * gauss(self.seed, name, "entry", k)
            inflow += offered[name]
            rate = max(0.0, inflow * (1.0 + 0.02 * gauss(self.seed, name, "rps", k)))
            reachable = not timeline.has_pods or any(p.ready for p in pods[name])
            served[name] = rate if reachable else 0.0
            for callee, e in edges[name].items():
                offered[callee] += served[name] * (1.0 - e.broken)
        return served

    def _sample(
        self,
        timeline: DeploymentTimeline,
        k: int,
        t: float,
        rate: float,
        pods: list[PodState],
        edges: dict[str, Edge],
        below: dict[str, Sample],
    ) -> Sample:
        name = timeline.service.name
        calls_s, calls_err = _calls(edges, below)
        blip = max((b.factor for b in timeline.blips if b.start <= t < b.end), default=1.0)
        if not timeline.has_pods:
            own = self._own_ms(timeline, k, blip, _service_faults(timeline, t))
            errors = timeline.service.error_ratio * (self._noise(name, k)[1])
            return Sample(
                rate,
                _ratio(errors + calls_err),
                own / 1000.0 + calls_s,
                None,
                None,
                None,
                None,
                None,
                edges=tuple(edges.items()),
            )
        ready = [p for p in pods if p.ready]
        per_pod = rate / len(ready) if ready else 0.0
        store = datastore_of(timeline, self.kinds)
        pod_samples = [
            self._pod(
                timeline, k, t, p, per_pod if p.ready else 0.0, blip, calls_s, calls_err, store
            )
            for p in pods
        ]
        desired = timeline.replicas_at(t)
        down = 1.0 - min(1.0, len(ready) / desired) if desired else 0.0
        serving = [s for s in pod_samples if s.ready] or [s for s in pod_samples if s.running]
        latency = max((s.latency_p99_seconds for s in serving), default=calls_s)
        errors = sum(s.error_ratio for s in serving) / len(serving) if serving else 0.0
        errors += 0.8 * down + (0.02 if blip > 1.0 else 0.0)
        running = [s for s in pod_samples if s.running]
        return Sample(
            request_rate=rate,
            error_ratio=_ratio(errors) if rate > 0 else 0.0,
            latency_p99_seconds=latency,
            cpu_usage_cores=sum(s.cpu_usage_cores for s in running),
            memory_working_set_bytes=max(
                (s.memory_working_set_bytes for s in running), default=0.0
            ),
            memory_limit_bytes=timeline.generation_at(t).template.limit_mb * _MB,
            restarts=float(sum(p.restarts for p in pods)),
            available_replicas=float(len(ready)),
            pods=tuple(pod_samples),
            edges=tuple(edges.items()),
            saturation=max((s.cpu_throttled_ratio for s in running), default=0.0),
            disk_usage_ratio=max((s.disk_usage_ratio for s in running), default=0.0),
        )

    def _own_ms(
        self, timeline: DeploymentTimeline, k: int, stretch: float, faults: list[Fault]
    ) -> float:
        """p99 of the service's own work: a tail of twice the median, times `stretch`."""
        service, name = timeline.service, timeline.service.name
        own = 2.0 * service.latency_ms * stretch * self._noise(name, k)[0]
        for fault in faults:
            own += fault.added_ms()
            if isinstance(fault, DependencyLatency) and fault.target in (None, name):
                own += fault.added
        return own

    def _noise(self, name: str, k: int) -> tuple[float, float]:
        """(latency, errors) multipliers shared by the service's pods at step k."""
        latency, errors = gauss_pair(self.seed, name, "service", k)
        return 1.0 + 0.05 * latency, 1.0 + 0.3 * errors

    def _pod(
        self,
        timeline: DeploymentTimeline,
        k: int,
        t: float,
        pod: PodState,
        rps: float,
        blip: float,
        calls_s: float,
        calls_err: float,
        store: str | None,
    ) -> PodSample:
        service, name, seed = timeline.service, timeline.service.name, self.seed
        faults = pod.faults(timeline, t)
        if not pod.running:
            return PodSample(
                pod.name, pod.node, False, False, pod.restarts, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
            )
        pressure = pod.memory_mb / pod.limit_mb if pod.limit_mb > 0 else 0.0
        steal = self.world.steal_at(pod.node, t)
        gc = 0.4 * max(0.0, pressure - 0.5)
        demand = 0.01 + rps * service.cpu_ms_per_request / 1000.0 + gc
        demand += sum(f.extra_cores(rps) for f in faults)
        capacity = service.cpu_limit_cores * (1.0 - steal)
        rho = demand / capacity
        saturation = 1.0 / (1.0 - min(rho, _MAX_SATURATION))
        gc_stretch = 1.0 + 3.0 * max(0.0, pressure - 0.4) ** 2
        own = self._own_ms(timeline, k, gc_stretch * blip * saturation / (1.0 - steal), faults)
        errors = service.error_ratio * self._noise(name, k)[1]
        errors += sum(f.error_rate() for f in faults)
        errors += max(0.0, 1.0 - 1.0 / rho) if rho > 1.0 else 0.0  # shed: past the CPU limit
        pool = pool_fault(faults)
        if pool is not None and (pool.target is None or pool.target == store):
            own += pool.wait_ms(rps)
            errors += pool.timeouts(rps)
        cpu_noise, memory_noise = gauss_pair(seed, name, "pod", pod.slot, k)
        noise = 1.0 + 0.05 * cpu_noise
        memory = min(pod.memory_mb * (1.0 + 0.005 * memory_noise), pod.limit_mb)
        return PodSample(
            pod=pod.name,
            node=pod.node,
            ready=pod.ready,
            running=True,
            restarts=pod.restarts,
            request_rate=rps,
            error_ratio=_ratio(errors + calls_err) if rps > 0 else 0.0,
            latency_p99_seconds=own / 1000.0 + calls_s,
            cpu_usage_cores=min(demand, capacity) * noise,
            cpu_throttled_ratio=max(0.0, 1.0 - capacity / demand),
            # Noise never lifts a pod over its limit: there it would have been OOMKilled.
            memory_working_set_bytes=memory * _MB,
            disk_usage_ratio=self._disk(name, k, faults),
        )

    def _disk(self, name: str, k: int, faults: list[Fault]) -> float:
        """The service's filesystem: a level of its own with a little churn, full while
        a fault fills it."""
        if any(f.fills_disk() for f in faults):
            return _DISK_FULL
        level = min(max(0.35 + 0.08 * gauss(self.seed, name, "disk", 0), 0.1), 0.7)
        return level + 0.002 * gauss(self.seed, name, "disk", k)


def _service_faults(timeline: DeploymentTimeline, t: float) -> list[Fault]:
    """Faults acting on the whole service at t: its timed ones and its current revision's."""
    current = timeline.generation_at(t).template.faults if timeline.has_pods else ()
    return [*current, *(f.fault for f in timeline.faults if f.at <= t)]


def _calls(edges: dict[str, Edge], below: dict[str, Sample]) -> tuple[float, float]:
    """(seconds waited on callees, share of requests failed by them) per request."""
    seconds = errors = 0.0
    for callee, e in edges.items():
        through = 1.0 - e.broken
        seconds += through * (below[callee].latency_p99_seconds + e.added_ms / 1000.0)
        seconds += e.refused * _FAIL_FAST_S["refused"] + e.tls * _FAIL_FAST_S["tls"]
        errors += e.broken + through * below[callee].error_ratio
    return seconds, errors


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
