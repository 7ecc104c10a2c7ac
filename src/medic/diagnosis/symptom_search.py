"""Symptom-guided search: the root cause must explain what was seen.

Every real incident starts from a symptom (an alert: this service, this signal). A
service can only explain it if the symptom's service depends on it, so with a call
graph the search starts at the symptom and follows the calls: the symptom's service
and everything it reaches are the candidates, in the order the propagation left them
(a dependency whose anomaly precedes or matches its callers' has already been put
before them, so the deepest such dependency leads). Anomalous services the symptom's
service does not reach are passed over, each with the reason, and ranked after the
candidates; services that did not move come last.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace

from medic.analysis.topology import reachable
from medic.diagnosis.ranking_types import Ranking, Symptom

__all__ = ["search_from_symptom"]


def search_from_symptom(
    ranking: Ranking, calls: Mapping[str, Sequence[str]], symptom: Symptom
) -> Ranking:
    scope = {symptom.service} | reachable(symptom.service, calls)
    inside = [c for c in ranking.causes if c.service in scope]
    outside = [c for c in ranking.causes if c.service not in scope]
    ordered = (
        [c for c in inside if c.anomalous]
        + [c for c in outside if c.anomalous]
        + [c for c in inside if not c.anomalous]
        + [c for c in outside if not c.anomalous]
    )
    passed = dict(ranking.passed_over)
    seen = symptom.metric or "trouble"
    for cause in outside:
        if cause.anomalous:
            passed[cause.service] = (
                f"moved ({cause.metric}), but {symptom.service} does not depend on it, "
                f"so it cannot explain the {seen} seen at {symptom.service}"
            )
    for cause in inside:
        if cause.anomalous and cause.victim_of is not None:
            passed[cause.service] = (
                f"its {cause.metric} moved, but it depends on {cause.victim_of}, "
                "which broke no later"
            )
    top = next((c for c in ordered if c.anomalous and c.service in scope), None)
    path = _path(symptom.service, top.service, calls) if top is not None else ()
    return replace(ranking, causes=tuple(ordered), passed_over=passed, symptom_path=path)


def _path(start: str, goal: str, calls: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The shortest chain of calls from `start` to `goal` (both included)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            chain: list[str] = []
            at: str | None = node
            while at is not None:
                chain.append(at)
                at = previous[at]
            return tuple(reversed(chain))
        for callee in calls.get(node, ()):
            if callee not in previous:
                previous[callee] = node
                queue.append(callee)
    return (start, goal)
