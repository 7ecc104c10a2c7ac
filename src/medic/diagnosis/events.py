"""Kubernetes events as evidence: OOM kills, crash back-offs, failing probes, image pulls.

Only the reason and the object are used (both set by Kubernetes); the message is
untrusted text and is never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from medic.domain.cluster import ClusterEvent

__all__ = ["TELLING_REASONS", "EventCounts", "count_events"]

# Reasons that say something about a fault, by what they suggest.
TELLING_REASONS: Mapping[str, str] = {
    "OOMKilled": "oom",
    "OOMKilling": "oom",
    "BackOff": "crash",
    "CrashLoopBackOff": "crash",
    "Failed": "crash",
    "ErrImagePull": "image",
    "ImagePullBackOff": "image",
    "InspectFailed": "image",
    "Unhealthy": "unhealthy",
    "Evicted": "pressure",
    "NodeNotReady": "pressure",
    "FreeDiskSpaceFailed": "disk",
}


@dataclass(frozen=True)
class EventCounts:
    service: str
    kinds: Mapping[str, int]  # "oom", "crash", "image", "unhealthy", ... -> events
    first: float | None  # Unix seconds of the first telling event

    def has(self, kind: str) -> bool:
        return self.kinds.get(kind, 0) > 0


def _owner(obj: str, services: Sequence[str]) -> str | None:
    """The service a `Pod/<name>` or `Deployment/<name>` belongs to (longest prefix)."""
    _, _, name = obj.partition("/")
    best: str | None = None
    for service in services:
        if (name == service or name.startswith(service + "-")) and (
            best is None or len(service) > len(best)
        ):
            best = service
    return best


def count_events(events: Iterable[ClusterEvent], services: Sequence[str]) -> dict[str, EventCounts]:
    """Telling events per service (events of other objects are ignored)."""
    kinds: dict[str, dict[str, int]] = {}
    first: dict[str, float] = {}
    for event in events:
        kind = TELLING_REASONS.get(event.reason)
        if kind is None:
            continue
        service = _owner(event.object, services)
        if service is None:
            continue
        per = kinds.setdefault(service, {})
        per[kind] = per.get(kind, 0) + max(1, event.count)
        at = event.at.timestamp()
        first[service] = min(first.get(service, at), at)
    return {s: EventCounts(s, k, first.get(s)) for s, k in kinds.items()}
