"""`EventSource` over the simulated pods: the Kubernetes events a cluster would record.

Events are derived from the pods' states step by step (a pod that appears was
Scheduled, Pulled, Created and Started; one that goes away was Killed; a restart
counter that rises was an OOMKill or a crash and a BackOff), so they agree with the
metrics and the logs. Rollouts and scaling give ScalingReplicaSet on the Deployment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from medic.domain.cluster import ClusterEvent, EventType
from medic.sandbox.faultlogs import ip_of
from medic.sandbox.pods import PodState, pods_at
from medic.sandbox.simulation import Simulation, Snapshot

__all__ = ["SimEvents"]

_UNHEALTHY_EVERY = 20  # steps between repeated probe failures of one pod


class SimEvents:
    def __init__(self, simulation: Simulation) -> None:
        self._sim = simulation

    def events(self, namespace: str, start: datetime, end: datetime) -> list[ClusterEvent]:
        scenario = self._sim.scenario
        if namespace != scenario.namespace:
            return []
        snap = self._sim.current()
        step = scenario.step
        first = max(self._sim.offset(start), -scenario.history + step)
        last = min(self._sim.offset(end), snap.now)
        out: list[ClusterEvent] = []
        for k in range(math.ceil(first / step), math.floor(last / step) + 1):
            for name, timeline in snap.world.deployments.items():
                if timeline.has_pods:
                    out += self._step(snap, name, k)
        for at, node in snap.world.cordons:
            out.append(
                self._event(
                    at,
                    "NodeNotSchedulable",
                    f"Node/{node}",
                    f"Node {node} status is now: NodeNotSchedulable",
                )
            )
        out = [e for e in out if start <= e.at <= end]
        return sorted(out, key=lambda e: (e.at, e.object, e.reason))

    def _step(self, snap: Snapshot, service: str, k: int) -> list[ClusterEvent]:
        step = self._sim.scenario.step
        t, before_t = k * step, (k - 1) * step
        now = {p.name: p for p in pods_at(snap.world, service, t)}
        before = {p.name: p for p in pods_at(snap.world, service, before_t)}
        out: list[ClusterEvent] = []
        for name, pod in now.items():
            old = before.get(name)
            if old is None:
                out += self._born(service, pod)
            else:
                out += self._changed(service, old, pod, before_t, t, k)
        for name in before:
            if name not in now:
                out.append(
                    self._event(t, "Killing", f"Pod/{name}", f"Stopping container {service}")
                )
        out += self._scaling(snap, service, before, now, t)
        return out

    def _born(self, service: str, pod: PodState) -> list[ClusterEvent]:
        obj, at = f"Pod/{pod.name}", pod.created
        ns = self._sim.scenario.namespace
        image = f"registry.local/{service}:{pod.generation.template.version}"
        out = [
            self._event(
                at, "Scheduled", obj, f"Successfully assigned {ns}/{pod.name} to {pod.node}"
            )
        ]
        if pod.crash_reason == "bad_image":
            out.append(
                self._event(
                    at + 1,
                    "Failed",
                    obj,
                    f'Failed to pull image "{image}": manifest unknown',
                    EventType.WARNING,
                )
            )
            out.append(
                self._event(
                    at + 2, "BackOff", obj, f'Back-off pulling image "{image}"', EventType.WARNING
                )
            )
            return out
        out.append(
            self._event(
                at + 1, "Pulled", obj, f'Container image "{image}" already present on machine'
            )
        )
        out.append(self._event(at + 1, "Created", obj, f"Created container {service}"))
        out.append(self._event(at + 1, "Started", obj, f"Started container {service}"))
        return out

    def _changed(
        self, service: str, old: PodState, pod: PodState, since: float, t: float, k: int
    ) -> list[ClusterEvent]:
        obj = f"Pod/{pod.name}"
        out: list[ClusterEvent] = []
        if pod.restarts > old.restarts:
            if pod.crash_reason is None:
                out.append(
                    self._event(
                        old.container_started,
                        "OOMKilled",
                        obj,
                        f"Container {service} was OOMKilled: "
                        f"memory limit {pod.limit_mb:.0f}Mi exceeded",
                        EventType.WARNING,
                    )
                )
            out.append(
                self._event(
                    t,
                    "BackOff",
                    obj,
                    f"Back-off restarting failed container {service} in pod {pod.name}",
                    EventType.WARNING,
                )
            )
        if since < pod.container_started <= t and pod.restarts:
            out.append(
                self._event(pod.container_started, "Started", obj, f"Started container {service}")
            )
        if pod.running and not pod.ready and t >= pod.created + 30 and k % _UNHEALTHY_EVERY == 0:
            address = ip_of(self._sim.scenario.seed, pod.name)
            out.append(
                self._event(
                    t,
                    "Unhealthy",
                    obj,
                    f'Readiness probe failed: Get "http://{address}:8080/healthz": '
                    f"dial tcp {address}:8080: connect: connection refused",
                    EventType.WARNING,
                )
            )
        return out

    def _scaling(
        self,
        snap: Snapshot,
        service: str,
        before: dict[str, PodState],
        now: dict[str, PodState],
        t: float,
    ) -> list[ClusterEvent]:
        del snap
        out = []
        counts_before = _by_replicaset(before.values())
        counts_now = _by_replicaset(now.values())
        for rs in sorted(set(counts_before) | set(counts_now)):
            a, b = counts_before.get(rs, 0), counts_now.get(rs, 0)
            if a != b:
                verb = "up" if b > a else "down"
                out.append(
                    self._event(
                        t,
                        "ScalingReplicaSet",
                        f"Deployment/{service}",
                        f"Scaled {verb} replica set {service}-{rs} from {a} to {b}",
                    )
                )
        return out

    def _event(
        self, offset: float, reason: str, obj: str, message: str, kind: EventType = EventType.NORMAL
    ) -> ClusterEvent:
        return ClusterEvent(
            at=self._sim.origin + timedelta(seconds=offset),
            reason=reason,
            object=obj,
            message=message,
            type=kind,
            namespace=self._sim.scenario.namespace,
        )


def _by_replicaset(pods: Iterable[PodState]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in pods:
        counts[pod.generation.template_hash] = counts.get(pod.generation.template_hash, 0) + 1
    return counts
