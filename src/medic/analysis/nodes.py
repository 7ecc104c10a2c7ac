"""Node pressure: is one node making every pod scheduled on it slow?

The predicate compares a service's pods with each other: per pod, the recent p99
latency against its own earlier level; per node, the median of those ratios. A node
whose pods slowed down while the same service's pods on other nodes did not is
suspect; a suspect for several services at once is a strong lead. Workloads that
slowed everywhere (a bad release, a slow dependency) do not point at a node.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from medic.domain.model import Series

__all__ = ["NodeSuspect", "PodSlowdown", "node_slowdowns", "suspect_nodes"]

# A node's pods this much slower than before, and than the same service's pods on
# other nodes, point at the node.
_SLOWER = 1.3
_MARGIN = 1.25
_FINE = 1.5  # the other nodes' pods must stay within this of their own past
_RECENT_S = 600.0
_MIN_POINTS = 4


@dataclass(frozen=True)
class PodSlowdown:
    service: str
    node: str
    ratio: float  # the node's pods: recent p99 / earlier p99 (median over its pods)
    others: float  # the same service's pods on other nodes (median ratio)
    before_s: float  # the node's pods' earlier p99 (seconds)
    now_s: float  # their recent p99


@dataclass(frozen=True)
class NodeSuspect:
    node: str
    services: tuple[PodSlowdown, ...]  # most slowed first

    @property
    def strength(self) -> float:
        """How much slower the node's pods got than their peers, summed over services."""
        return sum(s.ratio / max(s.others, 1e-9) for s in self.services)


def node_slowdowns(service: str, pods: Sequence[Series], onset: float) -> list[PodSlowdown]:
    """Per node, how the service's pods there slowed down compared with the others."""
    by_node: dict[str, list[tuple[float, float, float]]] = {}
    for series in pods:
        node = series.labels.get("node")
        if not node or not series.points:
            continue
        end = series.points[-1].t
        before = [p.v for p in series.points if p.t < onset and p.v == p.v]
        recent = [p.v for p in series.points if p.t >= max(onset, end - _RECENT_S) and p.v == p.v]
        if len(before) < _MIN_POINTS or len(recent) < _MIN_POINTS:
            continue
        b, r = statistics.median(before), statistics.median(recent)
        if b <= 0:
            continue
        by_node.setdefault(node, []).append((r / b, b, r))
    if len(by_node) < 2:
        return []  # one node only: nothing to compare with
    out = []
    for node, items in by_node.items():
        others = [x[0] for n, rest in by_node.items() if n != node for x in rest]
        out.append(
            PodSlowdown(
                service=service,
                node=node,
                ratio=statistics.median(x[0] for x in items),
                others=statistics.median(others),
                before_s=statistics.median(x[1] for x in items),
                now_s=statistics.median(x[2] for x in items),
            )
        )
    return out


def suspect_nodes(slowdowns: Mapping[str, Sequence[PodSlowdown]]) -> list[NodeSuspect]:
    """Nodes whose pods slowed while their peers elsewhere did not, strongest first."""
    per_node: dict[str, list[PodSlowdown]] = {}
    for items in slowdowns.values():
        for s in items:
            if s.ratio >= _SLOWER and s.ratio >= _MARGIN * s.others and s.others <= _FINE:
                per_node.setdefault(s.node, []).append(s)
    suspects = [
        NodeSuspect(node, tuple(sorted(items, key=lambda s: -s.ratio)))
        for node, items in per_node.items()
    ]
    suspects.sort(key=lambda n: (-len(n.services), -n.strength, n.node))
    return suspects
