"""Simulated faults: one small class per fault type, built from a scenario's params.

A fault only says what it does to a pod (leak memory, add latency, write log lines);
the world decides when it is active (from a deploy, a config change or a `fault`
event) and the telemetry turns effects into series. Adding a fault type = one class
here + one line in `_SIMULATED`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "KNOWN_FAULT_TYPES",
    "Fault",
    "FaultParamError",
    "MemoryLeak",
    "PodView",
    "build_fault",
]

# Every type BENCHMARK.md §1 names; the ones not in `_SIMULATED` are rejected at load.
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


class FaultParamError(ValueError):
    """A fault's type or params are wrong; the loader adds the file and key path."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class PodView:
    """What a fault may look at to describe one running pod at one moment."""

    service: str
    pod: str
    memory_mb: float
    limit_mb: float

    @property
    def pressure(self) -> float:
        return self.memory_mb / self.limit_mb if self.limit_mb > 0 else 0.0


class Fault:
    """Base: a fault with no effect. Subclasses override the effects they have."""

    type_name: ClassVar[str] = ""

    def leak_mb_per_second(self) -> float:
        return 0.0

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
        rate = _number(params, "rate_mb_per_min", required=True)
        if rate <= 0:
            raise FaultParamError("must be > 0", key="rate_mb_per_min")
        _no_extra(params, {"rate_mb_per_min"})
        return cls(rate_mb_per_min=rate)

    def leak_mb_per_second(self) -> float:
        return self.rate_mb_per_min / 60.0

    def log_lines(self, pod: PodView) -> list[tuple[str, str]]:
        # GC works harder the fuller the heap: pauses grow roughly with the cube of
        # the pressure, which is what makes latency creep before the OOM.
        pressure = pod.pressure
        if pressure < 0.25:
            return []
        pause_ms = 4.0 + 400.0 * pressure**3
        level = "warning" if pause_ms >= 100.0 else "info"
        return [
            (
                level,
                f"GC pause {pause_ms:.0f}ms (heap {pod.memory_mb:.0f}MB of "
                f"{pod.limit_mb:.0f}MB, {pressure:.0%} used)",
            )
        ]

    def describe(self) -> str:
        return f"memory_leak ({self.rate_mb_per_min:g} MB/min)"


_SIMULATED = {"memory_leak": MemoryLeak.from_params}


def build_fault(type_name: str, params: Mapping[str, object]) -> Fault:
    """The fault of `type_name`, or FaultParamError saying what is wrong."""
    builder = _SIMULATED.get(type_name)
    if builder is not None:
        return builder(params)
    if type_name in KNOWN_FAULT_TYPES:
        raise FaultParamError(f"fault type {type_name!r} is not simulated yet", key="type")
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


def _no_extra(params: Mapping[str, object], allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise FaultParamError("unknown parameter", key=key)
