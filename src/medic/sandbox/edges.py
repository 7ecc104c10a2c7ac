"""What one call edge (caller -> callee) does at an instant: refused, TLS, slower.

A call fails with "connection refused" when the callee is down (no ready pod, an
outage on it) or when the caller's own revision cannot reach it (an outage fault
naming it); it fails the TLS handshake when the callee's certificate expired. Only
the share of calls that get through reaches the callee and comes back with its
latency and errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from medic.sandbox.faults import (
    CertExpiry,
    ConnectionPoolExhaustion,
    DependencyLatency,
    DependencyOutage,
    Fault,
)
from medic.sandbox.pods import PodState, faults_at
from medic.sandbox.world import DeploymentTimeline

__all__ = ["Edge", "callee_state", "datastore_of", "edge", "pool_fault"]

_DATASTORES = ("database", "cache", "queue")


@dataclass(frozen=True)
class CalleeState:
    """The callee as every caller sees it."""

    down: bool  # connection refused for every caller
    tls_broken: float  # share of handshakes that fail


@dataclass(frozen=True)
class Edge:
    refused: float  # share of calls refused
    tls: float  # share of calls failing the handshake
    added_ms: float  # latency the caller adds on this edge

    @property
    def broken(self) -> float:
        return min(1.0, self.refused + self.tls)


def callee_state(timeline: DeploymentTimeline, pods: list[PodState], t: float) -> CalleeState:
    name = timeline.service.name
    if timeline.has_pods:
        running = [p for p in pods if p.running]
        ready = [p for p in pods if p.ready]
        expired = sum(
            1 for p in running if any(isinstance(f, CertExpiry) for f in p.faults(timeline, t))
        )
        return CalleeState(not ready, expired / len(running) if running else 0.0)
    faults = [f.fault for f in timeline.faults if f.at <= t]
    down = any(isinstance(f, DependencyOutage) and f.target in (None, name) for f in faults)
    expired = any(isinstance(f, CertExpiry) for f in faults)
    return CalleeState(down, 1.0 if expired else 0.0)


def edge(
    caller: DeploymentTimeline,
    caller_pods: list[PodState],
    callee: str,
    state: CalleeState,
    t: float,
) -> Edge:
    """The edge as the caller's ready pods see it (a half-done rollout breaks half)."""
    if state.down:
        return Edge(1.0, 0.0, 0.0)
    pods = [p for p in caller_pods if p.ready]
    gens = [p.generation for p in pods] or [caller.generation_at(t)]
    refused = added = 0.0
    for generation in gens:
        faults = faults_at(caller, generation, t)
        if any(isinstance(f, DependencyOutage) and f.target == callee for f in faults):
            refused += 1.0
        added += sum(
            f.added for f in faults if isinstance(f, DependencyLatency) and f.target == callee
        )
    refused /= len(gens)
    tls = state.tls_broken * (1.0 - refused)
    return Edge(refused, tls, added / len(gens))


def datastore_of(timeline: DeploymentTimeline, kinds: dict[str, str]) -> str | None:
    """The first database-like service the caller calls (where its pool points)."""
    return next((c for c in timeline.service.calls if kinds.get(c) in _DATASTORES), None)


def pool_fault(faults: list[Fault]) -> ConnectionPoolExhaustion | None:
    return next((f for f in faults if isinstance(f, ConnectionPoolExhaustion)), None)
