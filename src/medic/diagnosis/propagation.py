"""Blame flows against the calls: victims of a callee that broke first, and of a surge.

Faults spread from a callee to its callers (a slow database makes its callers slow),
so a caller that is anomalous while something it calls (directly or transitively, per
the call graph) is anomalous no later than it (within `victim_slack_s`) is a *victim*:
its score is discounted and capped below its cause's, so a victim never outranks the
callee that explains it. Anomalous services whose onset came later than the first
anomaly are mildly discounted (half-life `onset_half_life_s`): among unrelated
movements, the earliest is the likelier cause. Load goes the other way: a service
whose request rate rose (`surge_ratio`) below a caller whose own rate rose too, where
nothing called that one with more traffic, is the surge's victim, and the surge's
entry is the cause.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from medic.analysis.kinds import PROPAGATING, SeriesKind, kind_of
from medic.analysis.topology import reachable
from medic.diagnosis.ranking_types import RankedCause, RankingParams

__all__ = ["propagate", "serves_less"]

# A victim of a surge serves at most this many times the entry's own rise.
_SURGE_MATCH = 1.2


def propagate(
    plain: Mapping[str, RankedCause],
    calls: Mapping[str, Sequence[str]],
    p: RankingParams,
    step: float,
    rises: Mapping[str, float] | None = None,
) -> list[RankedCause]:
    onsets = [c.onset for c in plain.values() if c.onset is not None]
    first = min(onsets) if onsets else 0.0
    causes_of = _victim_edges(plain, calls, p, step)
    surge = _surge_edges(plain, calls, p, rises or {})
    for victim, origin in surge.items():
        causes_of[victim] = [origin, *causes_of.get(victim, [])]
    for origin in set(surge.values()):
        # The surge's entry is no victim of the callees its traffic overloaded.
        causes_of[origin] = [c for c in causes_of.get(origin, []) if surge.get(c) != origin]
    final: dict[str, RankedCause] = {}

    def settle(name: str, visiting: frozenset[str]) -> RankedCause:
        if name in final:
            return final[name]
        cause = plain[name]
        score = cause.raw_score
        if cause.onset is not None:
            score *= 0.5 ** ((cause.onset - first) / p.onset_half_life_s)
        own, victim_of = score, None
        for callee in causes_of.get(name, ()):
            if callee in visiting:
                continue  # a cycle of blame: leave it to the onset order
            upstream = settle(callee, visiting | {name})
            capped = min(own * p.victim_discount, upstream.score * p.victim_cap)
            if victim_of is None or capped < score:
                score, victim_of = capped, callee
        settled = RankedCause(
            name, score, cause.raw_score, cause.metric, cause.onset, victim_of, cause.z
        )
        final[name] = settled
        return settled

    for name in sorted(plain):
        settle(name, frozenset({name}))
    return sorted(
        final.values(),
        key=lambda c: (
            not c.anomalous,
            -c.score,
            c.onset if c.onset is not None else math.inf,
            c.service,
        ),
    )


def _victim_edges(
    plain: Mapping[str, RankedCause],
    calls: Mapping[str, Sequence[str]],
    p: RankingParams,
    step: float,
) -> dict[str, list[str]]:
    """caller -> the anomalous callees (transitive) that broke no later than it.

    Only what travels up the calls makes a victim: a caller is slow, fails, serves
    less or waits because of a callee, but its own CPU, memory or disk use does not
    rise because a callee broke; a caller whose worst series is one of those is
    troubled by itself.
    """
    edges: dict[str, list[str]] = {}
    for name, cause in plain.items():
        if cause.onset is None or cause.metric is None:
            continue
        if kind_of(cause.metric) not in PROPAGATING:
            continue
        for callee in sorted(reachable(name, calls)):
            other = plain.get(callee)
            if other is None or other.onset is None:
                continue
            if _explains(other, cause, p, step):
                edges.setdefault(name, []).append(callee)
    # Two services that call each other and broke together: only the later (or the
    # weaker, at the same instant) is the victim, so blame has a direction.
    for name, callees in edges.items():
        for callee in list(callees):
            if name in edges.get(callee, ()) and _earlier(plain[name], plain[callee]):
                callees.remove(callee)
    return edges


def _surge_edges(
    plain: Mapping[str, RankedCause],
    calls: Mapping[str, Sequence[str]],
    p: RankingParams,
    rises: Mapping[str, float],
) -> dict[str, str]:
    """Traffic flows down the call graph: a service whose load rose while a service
    calling it (directly or not) saw its load rise as much, where no caller of that one
    did, is a victim of the surge that entered there (victim -> the surge's origin)."""
    surging = {name for name, rise in rises.items() if rise >= p.surge_ratio}
    callers_of: dict[str, set[str]] = {}
    for caller in calls:
        for callee in reachable(caller, calls):
            callers_of.setdefault(callee, set()).add(caller)
    origins = {name for name in surging if not (callers_of.get(name, set()) & surging)}
    edges: dict[str, str] = {}
    for origin in sorted(origins):
        if plain.get(origin) is None or not plain[origin].anomalous:
            continue
        for victim in sorted(reachable(origin, calls) & surging):
            # as much more traffic as the entry got, not more (retries, a bug of its own)
            as_much = rises[victim] <= _SURGE_MATCH * rises[origin]
            if victim not in origins and victim in plain and as_much:
                edges.setdefault(victim, origin)
    return edges


def _explains(callee: RankedCause, caller: RankedCause, p: RankingParams, step: float) -> bool:
    """Whether the callee's anomaly can explain the caller's.

    A callee that left its baseline first, or at the same time at the resolution of
    the data (`tie_steps` samples), does. One that moved a little later (within the
    slack, which absorbs the imprecision of gradual onsets) does only if it moved
    strongly too: a caller that fails sends its callees less traffic, and that
    weaker, later echo must not turn the blame around.
    """
    assert callee.onset is not None and caller.onset is not None
    if callee.onset <= caller.onset + p.tie_steps * step:
        return True
    in_time = callee.onset <= caller.onset + p.victim_slack_s
    return in_time and callee.raw_score >= p.victim_strength * caller.raw_score


def serves_less(cause: RankedCause) -> bool:
    """Whether the service's worst move is that its traffic fell."""
    return (
        cause.metric is not None and cause.z < 0 and kind_of(cause.metric) is SeriesKind.THROUGHPUT
    )


def _earlier(a: RankedCause, b: RankedCause) -> bool:
    assert a.onset is not None and b.onset is not None
    return (a.onset, -a.raw_score, a.service) < (b.onset, -b.raw_score, b.service)
