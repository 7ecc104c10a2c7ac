"""Simulated faults: one small class per fault type, built from a scenario's params.

A fault only says what it does (leak memory, burn CPU, add latency, fail calls, write
log lines); the world decides where and when it is active (a deploy's or a config
change's pods, or a `fault` event's service from its time on) and the telemetry turns
effects into series. Adding a fault type = one class here + one line in `_SIMULATED`.

A fault sits on a *host* service. Faults about a dependency (`dependency_outage`,
`dependency_latency`, `connection_pool_exhaustion`) also name the dependency: when the
host is the dependency itself (a `fault` event on it) the dependency is down or slow
for every caller; otherwise only the host's calls to it break.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from medic.sandbox.faultlogs import (
    cert_lines,
    disk_lines,
    exception_lines,
    gc_lines,
    hog_lines,
    pool_lines,
    slow_lines,
)
from medic.sandbox.faultview import PodView

__all__ = [
    "CRASH_REASONS",
    "KNOWN_FAULT_TYPES",
    "CertExpiry",
    "ConnectionPoolExhaustion",
    "CpuHog",
    "Crashloop",
    "DependencyLatency",
    "DependencyOutage",
    "DiskFull",
    "ErrorRegression",
    "Fault",
    "FaultParamError",
    "LatencyRegression",
    "MemoryLeak",
    "NodePressure",
    "PodView",
    "TrafficSurge",
    "build_fault",
]

# Every type BENCHMARK.md §1 names.
KNOWN_FAULT_TYPES = (
    "memory_leak",
    "cpu_hog",
    "latency_regression",
    "error_regression",
    "crashloop",
    "dependency_outage",
    "dependency_latency",
    "traffic_surge",
    "connection_pool_exhaustion",
    "node_pressure",
    "disk_full",
    "cert_expiry",
)
CRASH_REASONS = ("bad_config", "missing_env", "bad_image")


class FaultParamError(ValueError):
    """A fault's type or params are wrong; the loader adds the file and key path."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class Fault:
    """Base: a fault with no effect. Subclasses override the effects they have."""

    type_name: ClassVar[str] = ""

    @property
    def dependency(self) -> str | None:
        """The service this fault is about, when it is about a dependency."""
        return None

    def leak_mb_per_second(self) -> float:
        return 0.0

    def extra_cores(self, rps: float = 0.0) -> float:
        """CPU burnt per pod on top of the work (cores), the pod serving `rps`."""
        return 0.0

    def added_ms(self) -> float:
        """Latency added to the host's own work per request."""
        return 0.0

    def error_rate(self) -> float:
        """Share of the host's requests that fail with a 5xx of its own making."""
        return 0.0

    def traffic_factor(self) -> float:
        """Multiplier of the external traffic entering at the host."""
        return 1.0

    def crash_reason(self) -> str | None:
        """Why the host's containers cannot start (None: they run)."""
        return None

    def fills_disk(self) -> bool:
        """Whether the host's filesystem is full while the fault acts."""
        return False

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        """(level, message) lines this fault adds to one pod's logs for one step."""
        return []

    def describe(self) -> str:
        return self.type_name


@dataclass(frozen=True)
class MemoryLeak(Fault):
    """Working set grows steadily until the container is OOMKilled, then again."""

    rate_mb_per_min: float
    type_name: ClassVar[str] = "memory_leak"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> MemoryLeak:
        _no_extra(params, {"rate_mb_per_min"})
        return cls(rate_mb_per_min=_positive(params, "rate_mb_per_min"))

    def leak_mb_per_second(self) -> float:
        return self.rate_mb_per_min / 60.0

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return gc_lines(pod)

    def describe(self) -> str:
        return f"memory_leak ({self.rate_mb_per_min:g} MB/min)"


@dataclass(frozen=True)
class CpuHog(Fault):
    """CPU burnt on top of the work: `extra_millicores` per pod whatever its load (a
    busy loop, a runaway thread), and/or `extra_ms_per_request` of CPU per request
    (heavier work per request: more replicas share it)."""

    extra_millicores: float
    extra_ms_per_request: float = 0.0
    type_name: ClassVar[str] = "cpu_hog"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> CpuHog:
        _no_extra(params, {"extra_millicores", "extra_ms_per_request"})
        if "extra_millicores" not in params and "extra_ms_per_request" in params:
            return cls(0.0, _positive(params, "extra_ms_per_request"))
        per_request = _number(params, "extra_ms_per_request", required=False)
        if per_request < 0:
            raise FaultParamError(f"must be >= 0, got {per_request:g}", key="extra_ms_per_request")
        return cls(_positive(params, "extra_millicores"), per_request)

    def extra_cores(self, rps: float = 0.0) -> float:
        return (self.extra_millicores + rps * self.extra_ms_per_request) / 1000.0

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return hog_lines(pod)


@dataclass(frozen=True)
class LatencyRegression(Fault):
    added: float
    type_name: ClassVar[str] = "latency_regression"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> LatencyRegression:
        _no_extra(params, {"added_ms"})
        return cls(added=_positive(params, "added_ms"))

    def added_ms(self) -> float:
        return self.added

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return slow_lines(pod, self.added)


@dataclass(frozen=True)
class ErrorRegression(Fault):
    rate: float
    type_name: ClassVar[str] = "error_regression"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> ErrorRegression:
        _no_extra(params, {"error_rate"})
        rate = _positive(params, "error_rate")
        if rate > 1:
            raise FaultParamError("must be a ratio within (0, 1]", key="error_rate")
        return cls(rate=rate)

    def error_rate(self) -> float:
        return self.rate

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return exception_lines(pod, self.rate)


@dataclass(frozen=True)
class Crashloop(Fault):
    reason: str
    type_name: ClassVar[str] = "crashloop"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Crashloop:
        _no_extra(params, {"reason"})
        reason = params.get("reason", "bad_config")
        if reason not in CRASH_REASONS:
            raise FaultParamError(
                f"expected one of {', '.join(CRASH_REASONS)}, got {reason!r}", key="reason"
            )
        return cls(reason=str(reason))

    def crash_reason(self) -> str | None:
        return self.reason

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        # A crashing container logs once per start, at its start (see logs.py).
        return []

    def describe(self) -> str:
        return f"crashloop ({self.reason})"


@dataclass(frozen=True)
class DependencyOutage(Fault):
    target: str | None  # None: the host itself is down
    type_name: ClassVar[str] = "dependency_outage"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> DependencyOutage:
        _no_extra(params, {"target"})
        return cls(target=_optional_name(params, "target"))

    @property
    def dependency(self) -> str | None:
        return self.target


@dataclass(frozen=True)
class DependencyLatency(Fault):
    target: str | None
    added: float
    type_name: ClassVar[str] = "dependency_latency"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> DependencyLatency:
        _no_extra(params, {"target", "added_ms"})
        return cls(target=_optional_name(params, "target"), added=_positive(params, "added_ms"))

    @property
    def dependency(self) -> str | None:
        return self.target


@dataclass(frozen=True)
class TrafficSurge(Fault):
    factor: float
    type_name: ClassVar[str] = "traffic_surge"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> TrafficSurge:
        _no_extra(params, {"factor"})
        factor = _positive(params, "factor")
        if factor <= 1:
            raise FaultParamError("must be > 1 (a surge multiplies traffic)", key="factor")
        return cls(factor=factor)

    def traffic_factor(self) -> float:
        return self.factor


@dataclass(frozen=True)
class ConnectionPoolExhaustion(Fault):
    """Every request holds a pooled connection for `hold_ms`: past `pool_size` in flight
    per pod, requests wait for a connection and time out after `timeout_ms`."""

    pool_size: int
    hold_ms: float = 250.0
    timeout_ms: float = 5000.0
    target: str | None = None  # the database; None: the host's first datastore callee
    type_name: ClassVar[str] = "connection_pool_exhaustion"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> ConnectionPoolExhaustion:
        _no_extra(params, {"pool_size", "hold_ms", "timeout_ms", "target"})
        size = _positive(params, "pool_size")
        if not size.is_integer():
            raise FaultParamError("expected a whole number", key="pool_size")
        hold = _number(params, "hold_ms", required=False) or 250.0
        timeout = _number(params, "timeout_ms", required=False) or 5000.0
        target = _optional_name(params, "target")
        return cls(pool_size=int(size), hold_ms=hold, timeout_ms=timeout, target=target)

    def utilisation(self, rps_per_pod: float) -> float:
        return rps_per_pod * self.hold_ms / 1000.0 / self.pool_size

    def wait_ms(self, rps_per_pod: float) -> float:
        u = self.utilisation(rps_per_pod)
        if u < 0.7:
            return 0.0
        return min(self.timeout_ms, self.hold_ms * (u - 0.7) / max(1.0 - min(u, 0.99), 0.01))

    def timeouts(self, rps_per_pod: float) -> float:
        u = self.utilisation(rps_per_pod)
        return max(0.0, 1.0 - 1.0 / u) if u > 1.0 else 0.0

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return pool_lines(pod, self)


@dataclass(frozen=True)
class NodePressure(Fault):
    node: str
    cpu_steal: float
    type_name: ClassVar[str] = "node_pressure"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> NodePressure:
        _no_extra(params, {"node", "cpu_steal"})
        node = _optional_name(params, "node")
        if node is None:
            raise FaultParamError("missing key", key="node")
        steal = _positive(params, "cpu_steal")
        if steal >= 1:
            raise FaultParamError("must be a share of the CPU within (0, 1)", key="cpu_steal")
        return cls(node=node, cpu_steal=steal)


@dataclass(frozen=True)
class DiskFull(Fault):
    write_share: float = 0.3  # share of requests that write
    type_name: ClassVar[str] = "disk_full"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> DiskFull:
        _no_extra(params, {"write_share"})
        share = _number(params, "write_share", required=False) or 0.3
        if not 0 < share <= 1:
            raise FaultParamError("must be a ratio within (0, 1]", key="write_share")
        return cls(write_share=share)

    def error_rate(self) -> float:
        return self.write_share

    def fills_disk(self) -> bool:
        return True

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return disk_lines(pod)


@dataclass(frozen=True)
class CertExpiry(Fault):
    """The host's serving certificate expired: callers fail the TLS handshake."""

    type_name: ClassVar[str] = "cert_expiry"

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> CertExpiry:
        _no_extra(params, set())
        return cls()

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        return cert_lines(pod)


_SIMULATED = {
    "memory_leak": MemoryLeak.from_params,
    "cpu_hog": CpuHog.from_params,
    "latency_regression": LatencyRegression.from_params,
    "error_regression": ErrorRegression.from_params,
    "crashloop": Crashloop.from_params,
    "dependency_outage": DependencyOutage.from_params,
    "dependency_latency": DependencyLatency.from_params,
    "traffic_surge": TrafficSurge.from_params,
    "connection_pool_exhaustion": ConnectionPoolExhaustion.from_params,
    "node_pressure": NodePressure.from_params,
    "disk_full": DiskFull.from_params,
    "cert_expiry": CertExpiry.from_params,
}


def build_fault(type_name: str, params: Mapping[str, object]) -> Fault:
    """The fault of `type_name`, or FaultParamError saying what is wrong."""
    builder = _SIMULATED.get(type_name)
    if builder is not None:
        return builder(params)
    raise FaultParamError(
        f"unknown fault type {type_name!r} (known: {', '.join(KNOWN_FAULT_TYPES)})", key="type"
    )


def _number(params: Mapping[str, object], key: str, *, required: bool) -> float:
    value = params.get(key)
    if value is None:
        if required:
            raise FaultParamError("missing key", key=key)
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultParamError(f"expected a number, got {value!r}", key=key)
    return float(value)


def _positive(params: Mapping[str, object], key: str) -> float:
    value = _number(params, key, required=True)
    if value <= 0:
        raise FaultParamError(f"must be > 0, got {value:g}", key=key)
    return value


def _optional_name(params: Mapping[str, object], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise FaultParamError(f"expected a name, got {value!r}", key=key)
    return value


def _no_extra(params: Mapping[str, object], allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise FaultParamError("unknown parameter", key=key)
