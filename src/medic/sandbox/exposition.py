"""The sandbox's telemetry as the Prometheus series a real cluster would expose.

Names and labels are those of cAdvisor (`container_*{namespace,pod,container}`),
kube-state-metrics (`kube_*`) and the OpenTelemetry HTTP server conventions as
exported to Prometheus (`http_server_*{namespace,service}`), so the PromQL that
reads a real cluster reads the sandbox too (BENCHMARK.md §1).

The values are derived so that medic's queries reproduce the sandbox's own
`MetricsSource`: counters grow by value x step at each step (a `rate` over a window
is the window's mean); the latency histogram puts each step's requests into buckets
whose interpolated 0.99 quantile is the sandbox's p99; container series come from the
pods' own samples (their max is the service's working set, their sum its CPU). HTTP
series are per service (as a mesh or an ingress reports them): the service's error
ratio counts unavailable replicas, which no single pod's counters could carry.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

from prometheus_client.metrics_core import Metric

from medic.ports.clock import Clock
from medic.sandbox.scenario import Scenario
from medic.sandbox.simulation import Snapshot
from medic.sandbox.telemetry import Sample, Telemetry
from medic.sandbox.world import DeploymentTimeline, compile_world

__all__ = [
    "BUCKETS",
    "FAMILIES",
    "Exposition",
    "Family",
    "LiveTelemetry",
    "SandboxCollector",
    "StepValues",
    "Value",
    "history_snapshot",
    "latency_shares",
]

_MB = 1024.0 * 1024.0

Kind = Literal["gauge", "counter", "histogram"]
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Family:
    """One metric family; `name` excludes a counter's `_total` (as OpenMetrics wants)."""

    name: str
    kind: Kind
    help: str
    unit: str = ""


MEMORY = Family(
    "container_memory_working_set_bytes", "gauge", "Current working set in bytes.", "bytes"
)
LIMIT = Family(
    "container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", "bytes"
)
CPU = Family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed.", "seconds")
CFS_PERIODS = Family(
    "container_cpu_cfs_periods", "counter", "Number of elapsed enforcement period intervals."
)
CFS_THROTTLED = Family(
    "container_cpu_cfs_throttled_periods", "counter", "Number of throttled period intervals."
)
FS_USAGE = Family(
    "container_fs_usage_bytes", "gauge", "Number of bytes that are consumed by the container."
)
FS_LIMIT = Family(
    "container_fs_limit_bytes", "gauge", "Number of bytes that can be consumed by the container."
)
RESTARTS = Family(
    "kube_pod_container_status_restarts",
    "counter",
    "The number of container restarts per container.",
)
POD_INFO = Family("kube_pod_info", "gauge", "Information about pod.")
AVAILABLE = Family(
    "kube_deployment_status_replicas_available",
    "gauge",
    "The number of available replicas per deployment.",
)
DESIRED = Family(
    "kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment."
)
REQUESTS = Family("http_server_requests", "counter", "HTTP server requests by status code.")
DURATION = Family(
    "http_server_request_duration_seconds",
    "histogram",
    "Duration of HTTP server requests.",
    "seconds",
)
FAMILIES = (
    MEMORY, LIMIT, CPU, CFS_PERIODS, CFS_THROTTLED, FS_USAGE, FS_LIMIT, RESTARTS,
    POD_INFO, AVAILABLE, DESIRED, REQUESTS, DURATION,
)  # fmt: skip

# Upper bounds of the latency histogram: the OpenTelemetry defaults, with finer
# buckets below 5 ms (a database's p99) and coarser ones for timeouts.
BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,
    0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0,
)  # fmt: skip
_LE = (*(f"{b:g}" for b in BUCKETS), "+Inf")
_MEAN_OVER_P99 = 0.4  # the sandbox's p99 is about twice the median, plus callees
_CFS_PERIOD_SECONDS = 0.1  # the kernel's default CFS quota period
_FS_BYTES = 20.0 * 1024**3  # each container's filesystem: 20 GiB


@dataclass(frozen=True)
class Value:
    """One sample: `suffix` is "", "_total", "_bucket", "_count" or "_sum"."""

    family: Family
    suffix: str
    labels: Labels  # for a histogram, without `le`
    value: float
    le: str | None = None

    @cached_property
    def key(self) -> tuple[str, str, Labels, str | None]:
        return (self.family.name, self.suffix, self.labels, self.le)


@dataclass(frozen=True)
class StepValues:
    """Every series alive at step `k` (Unix time `at`), counters cumulative.

    `born` holds a zero sample of each counter first seen at this step, to be
    stamped one step earlier: a counter starts at 0, so a `rate` over the window in
    which it appears counts all of its first step.
    """

    k: int
    at: float
    values: tuple[Value, ...]
    born: tuple[Value, ...]


def latency_shares(p99: float) -> list[float]:
    """Fractions of requests per bucket (the last is +Inf) whose p99 is `p99`.

    `histogram_quantile` interpolates linearly inside the bucket holding the 0.99
    rank; the shares put that rank at the fraction x of the bucket where p99 lies.
    """
    shares = [0.0] * (len(BUCKETS) + 1)
    i = bisect.bisect_left(BUCKETS, p99)
    if i == len(BUCKETS) or i == 0:
        # Beyond the last bound Prometheus answers that bound; below the first, 0.99 of it.
        shares[i] = 1.0
        return shares
    low, high = BUCKETS[i - 1], BUCKETS[i]
    x = (p99 - low) / (high - low)
    inside, above = (0.01 / (1.0 - x), 0.0) if x < 0.5 else (0.02, 0.02 * x - 0.01)
    # Most requests sit around the median, about half the p99.
    shares[min(bisect.bisect_left(BUCKETS, p99 / 2.0), i - 1)] = 1.0 - inside - above
    shares[i] = inside
    shares[i + 1] += above
    return shares


class Exposition:
    """Turns consecutive steps of a world's telemetry into series values.

    Holds the running counters, so `advance` must see every step in order.
    """

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._totals: dict[tuple[str, str, Labels, str | None], float] = {}
        self._last: int | None = None

    @property
    def last_step(self) -> int | None:
        return self._last

    def advance(self, snapshot: Snapshot, k: int) -> StepValues:
        if self._last is not None and k != self._last + 1:
            raise ValueError(f"steps must be consecutive: {k} after {self._last}")
        self._last = k
        step = self._scenario.step
        samples = snapshot.telemetry.at_step(k)
        gauges: list[Value] = []
        increments: list[Value] = []
        for name, sample in samples.items():
            timeline = snapshot.world.deployments[name]
            if timeline.has_pods:
                pod_gauges, pod_increments = _pods(self._scenario.namespace, timeline, sample, step)
                gauges += pod_gauges
                increments += pod_increments
                desired = timeline.replicas_at(k * step)
                gauges += _deployment(self._scenario.namespace, name, sample, desired)
            increments += _http(self._scenario.namespace, name, sample, step)
        counters, born = self._accumulate(increments)
        at = snapshot.telemetry.origin_unix + k * step
        return StepValues(k, at, tuple(gauges + counters), tuple(born))

    def _accumulate(self, increments: list[Value]) -> tuple[list[Value], list[Value]]:
        totals: dict[tuple[str, str, Labels, str | None], float] = {}
        first: dict[tuple[str, str, Labels, str | None], Value] = {}
        born: list[Value] = []
        for inc in increments:
            key = inc.key
            if key not in totals:
                first[key] = inc
                before = self._totals.get(key)
                if before is None:
                    before = 0.0
                    born.append(Value(inc.family, inc.suffix, inc.labels, 0.0, inc.le))
                totals[key] = before
            if inc.family is RESTARTS:  # already cumulative in the sandbox
                totals[key] = inc.value
            else:
                totals[key] += inc.value
        # Series of pods that are gone are dropped, as a real exporter stops exposing them.
        self._totals = totals
        counters = [
            Value(v.family, v.suffix, v.labels, totals[key], v.le) for key, v in first.items()
        ]
        return counters, born


def _pods(
    namespace: str, timeline: DeploymentTimeline, sample: Sample, step: float
) -> tuple[list[Value], list[Value]]:
    """(gauges, counter increments) of the service's pods, from their own samples."""
    service = timeline.service.name
    generations = {g.template_hash: g for g in timeline.generations}
    gauges: list[Value] = []
    increments: list[Value] = []
    for pod in sample.pods:
        replicaset = pod.pod.rsplit("-", 1)[0]
        generation = generations.get(replicaset.rsplit("-", 1)[-1], timeline.current)
        version = generation.template.version
        kube = (("namespace", namespace), ("pod", pod.pod), ("container", service))
        container = (*kube, ("image", f"registry.local/{service}:{version}"))
        info = (
            ("namespace", namespace),
            ("pod", pod.pod),
            ("node", pod.node),
            ("created_by_kind", "ReplicaSet"),
            ("created_by_name", replicaset),
        )
        gauges.append(Value(POD_INFO, "", info, 1.0))
        increments.append(Value(RESTARTS, "_total", kube, float(pod.restarts)))
        running = 1.0 if pod.running else 0.0
        increments.append(Value(CPU, "_total", container, running * pod.cpu_usage_cores * step))
        periods = running * step / _CFS_PERIOD_SECONDS
        increments.append(Value(CFS_PERIODS, "_total", container, periods))
        throttled = periods * pod.cpu_throttled_ratio
        increments.append(Value(CFS_THROTTLED, "_total", container, throttled))
        if pod.running:  # cAdvisor has no container to report while it waits to restart
            gauges.append(Value(MEMORY, "", container, pod.memory_working_set_bytes))
            limit = generation.template.limit_mb * _MB
            gauges.append(Value(LIMIT, "", container, limit))
            gauges.append(Value(FS_USAGE, "", container, pod.disk_usage_ratio * _FS_BYTES))
            gauges.append(Value(FS_LIMIT, "", container, _FS_BYTES))
    return gauges, increments


def _deployment(namespace: str, service: str, sample: Sample, desired: int) -> list[Value]:
    labels = (("namespace", namespace), ("deployment", service))
    return [
        Value(AVAILABLE, "", labels, sample.available_replicas or 0.0),
        Value(DESIRED, "", labels, float(desired)),
    ]


def _http(namespace: str, service: str, sample: Sample, step: float) -> list[Value]:
    labels = (("namespace", namespace), ("service", service))
    count = sample.request_rate * step
    errors = count * sample.error_ratio
    values = [
        Value(REQUESTS, "_total", (*labels, ("code", "200")), count - errors),
        Value(REQUESTS, "_total", (*labels, ("code", "500")), errors),
    ]
    cumulative = 0.0
    for le, share in zip(_LE, latency_shares(sample.latency_p99_seconds), strict=True):
        cumulative += share * count
        values.append(Value(DURATION, "_bucket", labels, cumulative, le))
    values.append(Value(DURATION, "_count", labels, count))
    values.append(
        Value(DURATION, "_sum", labels, count * sample.latency_p99_seconds * _MEAN_OVER_P99)
    )
    return values


def history_snapshot(scenario: Scenario, origin: datetime) -> Snapshot:
    """The scenario's world at "now = 0" (no writes applied), anchored at `origin`."""
    world = compile_world(scenario, (), 0.0)
    return Snapshot(world, Telemetry(world, origin), 0.0)


class LiveTelemetry:
    """The scenario's world as it unfolds on `clock` (live timeline events; no writes)."""

    def __init__(self, scenario: Scenario, origin: datetime, clock: Clock) -> None:
        self.scenario = scenario
        self.origin = origin
        self.clock = clock
        self._compiled: tuple[int, Telemetry] | None = None

    def current(self) -> Snapshot:
        now = (self.clock.now() - self.origin).total_seconds()
        happened = sum(1 for e in self.scenario.timeline if e.at <= now)
        if self._compiled is None or self._compiled[0] != happened:
            world = compile_world(self.scenario, (), now)
            self._compiled = (happened, Telemetry(world, self.origin))
        telemetry = self._compiled[1]
        return Snapshot(telemetry.world, telemetry, now)

    def steps(self, exposition: Exposition) -> Iterator[StepValues]:
        """Advance `exposition` to the present step.

        Counters start at the first step seen, as a real process's start at zero.
        """
        snapshot = self.current()
        now = math.floor(snapshot.now / self.scenario.step + 1e-9)
        last = exposition.last_step
        for k in range(now if last is None else last + 1, now + 1):
            yield exposition.advance(snapshot, k)


class SandboxCollector:
    """A `prometheus_client` collector: the live sandbox's series at the present step."""

    def __init__(self, live: LiveTelemetry) -> None:
        self._live = live
        self._exposition = Exposition(live.scenario)
        self._latest: StepValues | None = None
        self._lock = threading.Lock()

    def current(self) -> StepValues | None:
        """Catch up with the clock (one scrape at a time: counters advance in order)."""
        with self._lock:
            for values in self._live.steps(self._exposition):
                self._latest = values
            return self._latest

    def collect(self) -> Iterator[Metric]:
        latest = self.current()
        if latest is None:
            return
        metrics: dict[str, Metric] = {}
        for value in latest.values:
            family = value.family
            metric = metrics.get(family.name)
            if metric is None:
                metric = Metric(family.name, family.help, family.kind, family.unit)
                metrics[family.name] = metric
            labels = dict(value.labels)
            if value.le is not None:
                labels["le"] = value.le
            metric.add_sample(family.name + value.suffix, labels, value.value)
        yield from metrics.values()
