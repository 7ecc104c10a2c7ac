"""Statistical root-cause ranking from multivariate metrics, in the spirit of BARO.

The method (Pham, Ha and Zhang, "BARO: Robust Root Cause Analysis for Microservices
via Multivariate Bayesian Online Change Point Detection", FSE 2024; evaluated on the
RCAEval benchmark, Pham et al., WWW 2025 companion) in four steps:

1. **Onset.** When the fault's start is known (RCAEval's `inject_time.txt`), it is
   used. Otherwise every series is split at its single best change point (a step or a
   ramp, `stats.change_point`), each split is scored as in step 2, and the onset is
   the *earliest* change point among the series whose split is significant
   (robust z >= `significant_z`): the first thing that moved is the best guess of
   when the fault began. BARO finds it with multivariate Bayesian online change point
   detection; a per-series offline split is simpler and deterministic.
2. **Robust score per metric.** ``z = |median(post) - median(pre)| / IQR(pre)``, with
   the pre-onset stretch as the reference of normal behaviour (BARO's RobustScorer
   uses median and IQR for the same reason: a few outliers in the baseline must not
   hide a shift). A tiny or zero IQR (a flat counter, a constant gauge) is floored at
   `relative_floor` of the larger of the two medians, so a move from a flat baseline
   scores high but finitely, and a flat series that stays flat scores 0. The score is
   absolute: offline cases do not say which direction of a metric is bad.
3. **Per service.** The maximum over its metrics; that metric is reported. The
   service's own onset is the first instant after the global onset at which its worst
   anomalous metric (smoothed over three points) leaves the baseline by
   `anomaly_z` robust units.
4. **Onset order and propagation.** Faults spread from a callee to its callers (a
   slow database makes its callers slow), so a caller that is anomalous while
   something it calls (directly or transitively, per the call graph) is anomalous no
   later than it (within `victim_slack_s`) is a *victim*: its score is discounted and
   capped below its cause's, so a victim never outranks the callee that explains it.
   Anomalous services whose onset came later than the first anomaly are mildly
   discounted (half-life `onset_half_life_s`): among unrelated movements, the
   earliest is the likelier cause. Load goes the other way: a service whose request
   rate rose (`surge_ratio`) below a caller whose own rate rose too, where nothing
   called that one with more traffic, is the surge's victim, and the surge's entry is
   the cause.

Inputs are plain arrays (one time axis, per-service named series aligned to it; NaN
marks a missing point), so the same core serves the live diagnostician and the
offline `medic bench rca` cases. Empty, constant, all-NaN and too-short series score 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from medic.diagnosis.stats import Array, change_point
from medic.domain.topology import reachable

_REQUEST_RATE = "request_rate"
# A victim of a surge serves at most this many times the entry's own rise.
_SURGE_MATCH = 1.2

__all__ = ["RankedCause", "RankingParams", "Ranking", "find_onset", "rank_root_causes", "robust_z"]


@dataclass(frozen=True)
class RankingParams:
    anomaly_z: float = 4.0  # a service this far off its baseline is anomalous
    significant_z: float = 6.0  # a change point this strong may mark the onset
    relative_floor: float = 0.01  # the IQR is never below 1% of the level
    absolute_floor: float = 1e-12
    min_points: int = 4  # on each side of the onset
    victim_discount: float = 0.3
    victim_cap: float = 0.95  # a victim scores at most this fraction of its cause
    victim_slack_s: float = 300.0  # a cause may start this much after its victim (noise)
    victim_strength: float = 0.5  # ... if it moved at least this much relative to it
    tie_steps: float = 2.0  # onsets this many samples apart are simultaneous
    onset_half_life_s: float = 1800.0
    surge_ratio: float = 1.5  # load this many times its own before: part of a surge


@dataclass(frozen=True)
class RankedCause:
    service: str
    score: float  # the ranking score (victims and late movers discounted)
    raw_score: float  # the worst metric's robust z, undiscounted
    metric: str | None  # the worst metric
    onset: float | None  # when this service left its baseline (None: it did not)
    victim_of: str | None = None  # the callee that explains this service's anomaly

    @property
    def anomalous(self) -> bool:
        return self.onset is not None


@dataclass(frozen=True)
class Ranking:
    causes: tuple[RankedCause, ...]  # most likely first
    onset: float | None  # the onset used (given or found); None without usable data
    onset_found: bool  # True when the onset was inferred, not given
    metric_scores: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def rank_of(self, service: str) -> int | None:
        """1-based rank of `service`, None when it is not ranked."""
        for i, cause in enumerate(self.causes, start=1):
            if cause.service == service:
                return i
        return None


Metrics = Mapping[str, Mapping[str, Sequence[float] | npt.NDArray[np.float64]]]


def rank_root_causes(
    times: Sequence[float] | Array,
    metrics: Metrics,
    onset: float | None = None,
    calls: Mapping[str, Sequence[str]] | None = None,
    params: RankingParams | None = None,
) -> Ranking:
    """Rank the services of `metrics` (service -> metric -> values aligned to `times`).

    `calls` maps a caller to the services it calls. Services that have no usable
    series still appear, with score 0, after every service that moved.
    """
    p = params or RankingParams()
    t_all = np.asarray(times, dtype=np.float64)
    series = _clean(t_all, metrics)
    found = onset is None
    if onset is None:
        onset = find_onset(series, p)
    if onset is None:
        causes = tuple(RankedCause(s, 0.0, 0.0, None, None) for s in sorted(metrics))
        return Ranking(causes, None, found)
    scores: dict[tuple[str, str], float] = {}
    plain: dict[str, RankedCause] = {}
    for service in metrics:
        best: RankedCause = RankedCause(service, 0.0, 0.0, None, None)
        for metric, (t, v) in series.get(service, {}).items():
            z = robust_z(v[t < onset], v[t >= onset], p)
            scores[(service, metric)] = z
            if z > best.raw_score or best.metric is None:
                best = RankedCause(service, z, z, metric, None)
        if best.metric is not None and best.raw_score >= p.anomaly_z:
            t, v = series[service][best.metric]
            best = RankedCause(
                service, best.score, best.raw_score, best.metric, _departure(t, v, onset, p)
            )
        plain[service] = best
    rises = _load_rises(series, onset)
    ranked = _propagate(plain, calls or {}, p, _step(t_all), rises)
    return Ranking(tuple(ranked), onset, found, scores)


def _load_rises(
    series: Mapping[str, Mapping[str, tuple[Array, Array]]], onset: float
) -> dict[str, float]:
    """Per service, how many times its pre-onset request rate it serves after the onset."""
    rises: dict[str, float] = {}
    for service, metrics in series.items():
        if _REQUEST_RATE not in metrics:
            continue
        t, v = metrics[_REQUEST_RATE]
        pre, post = v[t < onset], v[t >= onset]
        if pre.size and post.size and float(np.median(pre)) > 0:
            rises[service] = float(np.median(post)) / float(np.median(pre))
    return rises


def robust_z(pre: Array, post: Array, params: RankingParams | None = None) -> float:
    """|median(post) - median(pre)| in units of the pre-onset IQR (floored); 0 if too short."""
    p = params or RankingParams()
    if pre.size < p.min_points or post.size < p.min_points:
        return 0.0
    before, after = float(np.median(pre)), float(np.median(post))
    q1, q3 = np.percentile(pre, [25, 75])
    scale = max(
        float(q3 - q1),
        p.relative_floor * max(abs(before), abs(after)),
        p.absolute_floor,
    )
    return abs(after - before) / scale


def find_onset(
    series: Mapping[str, Mapping[str, tuple[Array, Array]]], params: RankingParams | None = None
) -> float | None:
    """The earliest significant change point over every series; None when nothing moved.

    When no split is significant, the strongest split still marks the onset (the
    ranking then says how weak it is), so a case is never unrankable merely for
    being subtle.
    """
    p = params or RankingParams()
    earliest: float | None = None
    strongest: tuple[float, float] | None = None  # (z, time)
    for per_metric in series.values():
        for t, v in per_metric.values():
            split = change_point(t, v)
            if split is None:
                continue
            at = float(t[split.index])
            z = robust_z(v[t < at], v[t >= at], p)
            if z >= p.significant_z and (earliest is None or at < earliest):
                earliest = at
            if z > 0 and (strongest is None or z > strongest[0]):
                strongest = (z, at)
    if earliest is not None:
        return earliest
    return strongest[1] if strongest else None


def _clean(t_all: Array, metrics: Metrics) -> dict[str, dict[str, tuple[Array, Array]]]:
    """Finite (time, value) pairs per series, time-sorted; empty series dropped."""
    out: dict[str, dict[str, tuple[Array, Array]]] = {}
    order = np.argsort(t_all, kind="stable")
    for service, per_metric in metrics.items():
        for metric, values in per_metric.items():
            v = np.asarray(values, dtype=np.float64)
            if v.shape != t_all.shape:
                raise ValueError(f"{service}/{metric}: {v.size} values for {t_all.size} timestamps")
            t, v = t_all[order], v[order]
            keep = np.isfinite(t) & np.isfinite(v)
            if keep.any():
                out.setdefault(service, {})[metric] = (t[keep], v[keep])
    return out


def _step(t: Array) -> float:
    """The data's resolution: the median spacing of its timestamps."""
    spacing = np.diff(np.unique(t[np.isfinite(t)]))
    return float(np.median(spacing)) if spacing.size else 0.0


def _departure(t: Array, v: Array, onset: float, p: RankingParams) -> float:
    """First instant from `onset` on where the series (3-point median) is anomalous."""
    pre, post_mask = v[t < onset], t >= onset
    before = float(np.median(pre))
    q1, q3 = np.percentile(pre, [25, 75])
    tv, vv = t[post_mask], v[post_mask]
    scale = max(float(q3 - q1), p.relative_floor * abs(before), p.absolute_floor)
    if vv.size >= 3:
        padded = np.concatenate(([vv[0]], vv, [vv[-1]]))
        windows = np.stack([padded[:-2], padded[1:-1], padded[2:]])
        smooth = np.median(windows, axis=0)
    else:
        smooth = vv
    off = np.nonzero(np.abs(smooth - before) / scale >= p.anomaly_z)[0]
    # The score says the post median moved, so the smoothed series leaves somewhere;
    # if a floor difference hides it, the global onset is the honest answer.
    return float(tv[off[0]]) if off.size else onset


def _propagate(
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
        settled = RankedCause(name, score, cause.raw_score, cause.metric, cause.onset, victim_of)
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
    """caller -> the anomalous callees (transitive) that broke no later than it."""
    edges: dict[str, list[str]] = {}
    for name, cause in plain.items():
        if cause.onset is None:
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


def _earlier(a: RankedCause, b: RankedCause) -> bool:
    assert a.onset is not None and b.onset is not None
    return (a.onset, -a.raw_score, a.service) < (b.onset, -b.raw_score, b.service)
