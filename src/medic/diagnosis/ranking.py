"""Statistical root-cause ranking from multivariate metrics, in the spirit of BARO.

One method for every system: the sandbox, every offline dataset and the live loop run
this code with the same parameters. Nothing in it knows a dataset, a service or a
column; what it knows is what a metric *is* (`analysis.kinds`) and in which direction
it hurts.

1. **Onset.** When the fault's start is known (an inject time, an alert's start), it
   is used. Otherwise every series is split at its single best change point (a step
   or a ramp, `analysis.stats.change_point`), each split is scored as in step 2, and
   the onset is the *earliest* change point among the significant splits: the first
   thing that moved is the best guess of when the fault began. A symptom's time
   bounds the search: the fault began before it was seen.
2. **Score per series** (`analysis.scoring`): the fault window's level against the
   baseline's median in units of its IQR (floored at a fraction of its level, so flat
   series and separately recorded baselines cannot win by a few per cent), counted in
   the direction that hurts for the series' kind, two-sided at half weight for a kind
   that cannot be told.
3. **Per service.** The maximum over its series; that series is reported, with when
   the service left its baseline.
4. **Propagation** (`diagnosis.propagation`): victims of a callee that broke first,
   and of a surge where it entered, are discounted below their cause.
5. **Symptom-guided search** (`diagnosis.symptom_search`): with a symptom (the
   alert's service) and a call graph, the cause must explain the symptom, so it is
   looked for among the symptom's service and its dependencies; the services that
   cannot explain it are passed over, each with the reason.
6. **Confidence** (`diagnosis.confidence`): how strong the first is and how far ahead
   of the first competitor it is not explaining; weak or close evidence is
   inconclusive, with what to check next.

Inputs are plain arrays (one time axis, per-service named series aligned to it; NaN
marks a missing point). Empty, constant, all-NaN and too-short series score 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from medic.analysis.kinds import SeriesKind, kind_of
from medic.analysis.scoring import Baseline, SeriesScore, departure, score_series
from medic.analysis.stats import Array, change_point
from medic.diagnosis.confidence import judge
from medic.diagnosis.propagation import propagate
from medic.diagnosis.ranking_types import RankedCause, Ranking, RankingParams, Symptom
from medic.diagnosis.symptom_search import search_from_symptom

__all__ = [
    "RankedCause",
    "Ranking",
    "RankingParams",
    "Symptom",
    "find_onset",
    "rank_root_causes",
    "robust_z",
]

Metrics = Mapping[str, Mapping[str, Sequence[float] | npt.NDArray[np.float64]]]
Clean = dict[str, dict[str, tuple[Array, Array]]]
# A metric shared by this many services has peers to compare a magnitude with.
_MIN_PEERS = 3
# The onset is searched on series of at most this many points (block medians).
_ONSET_POINTS = 300


def rank_root_causes(
    times: Sequence[float] | Array,
    metrics: Metrics,
    onset: float | None = None,
    calls: Mapping[str, Sequence[str]] | None = None,
    params: RankingParams | None = None,
    symptom: Symptom | None = None,
) -> Ranking:
    """Rank the services of `metrics` (service -> metric -> values aligned to `times`).

    `calls` maps a caller to the services it calls. Services that have no usable
    series still appear, with score 0, after every service that moved. A symptom
    naming a service that neither the metrics nor the call graph know is refused
    (ValueError), as is a series whose length differs from the time axis.
    """
    p = params or RankingParams()
    t_all = np.asarray(times, dtype=np.float64)
    series = _clean(t_all, metrics)
    graph = calls or {}
    if symptom is not None and not _known(symptom.service, metrics, graph):
        raise ValueError(f"the symptom names {symptom.service!r}, which no series or edge knows")
    found = onset is None
    if onset is None:
        onset = find_onset(series, p, before=_onset_bound(symptom, t_all))
    if onset is None:
        causes = tuple(RankedCause(s, 0.0, 0.0, None, None) for s in sorted(metrics))
        return judge(Ranking(causes, None, found), p)
    plain, scores = _score_services(metrics, series, onset, p)
    ranked = propagate(plain, graph, p, _step(t_all), _load_rises(series, onset))
    ranking = Ranking(tuple(ranked), onset, found, scores)
    if symptom is not None and graph:
        ranking = search_from_symptom(ranking, graph, symptom)
    return judge(ranking, p, graph)


def _known(service: str, metrics: Metrics, calls: Mapping[str, Sequence[str]]) -> bool:
    return service in metrics or service in calls or any(service in v for v in calls.values())


def _onset_bound(symptom: Symptom | None, t: Array) -> float | None:
    if symptom is None or symptom.time is None or not t.size:
        return None
    return symptom.time


def _score_services(
    metrics: Metrics, series: Clean, onset: float, p: RankingParams
) -> tuple[dict[str, RankedCause], dict[tuple[str, str], float]]:
    scores: dict[tuple[str, str], float] = {}
    plain: dict[str, RankedCause] = {}
    split = _split(series, onset)
    peers = _peer_magnitudes(split)
    for service in metrics:
        best: SeriesScore | None = None
        for metric, (pre, post, base) in split.get(service, {}).items():
            peer = peers.get(metric, 0.0)
            scored = score_series(metric, pre, post, p.scoring, peer, base)
            if scored is None:
                continue
            scores[(service, metric)] = scored.harm
            if best is None or scored.harm > best.harm:
                best = scored
        if best is None:
            plain[service] = RankedCause(service, 0.0, 0.0, None, None)
            continue
        at = None
        if best.harm >= p.anomaly_z:
            t, v = series[service][best.metric]
            at = departure(t, v, onset, best, p.anomaly_z)
        plain[service] = RankedCause(service, best.harm, best.harm, best.metric, at, None, best.z)
    return plain, scores


Split = dict[str, dict[str, tuple[Array, Array, Baseline | None]]]


def _split(series: Clean, onset: float) -> Split:
    """Per series, its baseline and fault window, and the baseline's statistics."""
    out: Split = {}
    for service, per_metric in series.items():
        for metric, (t, v) in per_metric.items():
            pre, post = v[t < onset], v[t >= onset]
            out.setdefault(service, {})[metric] = (
                pre,
                post,
                Baseline.of(pre) if pre.size else None,
            )
    return out


def _peer_magnitudes(split: Split) -> dict[str, float]:
    """Per metric name shared by at least three services, the mean of their
    baselines' magnitudes."""
    sizes: dict[str, list[float]] = {}
    for per_metric in split.values():
        for metric, (_, _, base) in per_metric.items():
            sizes.setdefault(metric, []).append(base.magnitude if base is not None else 0.0)
    return {m: float(np.mean(s)) for m, s in sizes.items() if len(s) >= _MIN_PEERS}


def _load_rises(series: Clean, onset: float) -> dict[str, float]:
    """Per service, how many times its pre-onset traffic it serves after the onset
    (the largest rise over its throughput series)."""
    rises: dict[str, float] = {}
    for service, per_metric in series.items():
        for metric, (t, v) in per_metric.items():
            if kind_of(metric) is not SeriesKind.THROUGHPUT:
                continue
            pre, post = v[t < onset], v[t >= onset]
            if pre.size and post.size and float(np.median(pre)) > 0:
                rise = float(np.median(post)) / float(np.median(pre))
                rises[service] = max(rises.get(service, 0.0), rise)
    return rises


def robust_z(pre: Array, post: Array, params: RankingParams | None = None) -> float:
    """|level after - median before| in floored IQR units, either direction; 0 if too short."""
    p = params or RankingParams()
    scored = score_series("", pre, post, p.scoring)
    return abs(scored.z) if scored is not None else 0.0


def find_onset(
    series: Mapping[str, Mapping[str, tuple[Array, Array]]],
    params: RankingParams | None = None,
    before: float | None = None,
) -> float | None:
    """The earliest significant change point over every series; None when nothing moved.

    A change point after `before` (when the symptom was seen) is not the fault's
    start. When no split is significant, the strongest split still marks the onset
    (the ranking then says how weak it is), so a case is never unrankable merely for
    being subtle.
    """
    p = params or RankingParams()
    earliest: float | None = None
    strongest: tuple[float, float] | None = None  # (harm, time)
    for per_metric in series.values():
        for metric, (t_full, v_full) in per_metric.items():
            if v_full.size < 2 or v_full.min() == v_full.max():
                continue  # a flat series has no change point
            t, v = _coarse(t_full, v_full)
            split = change_point(t, v)
            if split is None:
                continue
            at = float(t[split.index])
            t, v = t_full, v_full
            if before is not None and at > before:
                continue
            scored = score_series(metric, v[t < at], v[t >= at], p.scoring)
            harm = scored.harm if scored is not None else 0.0
            if harm >= p.significant_z and (earliest is None or at < earliest):
                earliest = at
            if harm > 0 and (strongest is None or harm > strongest[0]):
                strongest = (harm, at)
    if earliest is not None:
        return earliest
    return strongest[1] if strongest else None


def _coarse(t: Array, v: Array) -> tuple[Array, Array]:
    """At most `_ONSET_POINTS` points: block medians (robust to spikes), each at its
    block's first instant; change points are searched at that resolution."""
    if t.size <= _ONSET_POINTS:
        return t, v
    block = -(-t.size // _ONSET_POINTS)  # ceiling division
    whole = (t.size // block) * block
    medians = np.median(v[:whole].reshape(-1, block), axis=1)
    return t[:whole:block], medians


def _clean(t_all: Array, metrics: Metrics) -> Clean:
    """Finite (time, value) pairs per series, time-sorted; empty series dropped."""
    out: Clean = {}
    order = np.argsort(t_all, kind="stable")
    t_sorted = t_all[order]
    for service, per_metric in metrics.items():
        for metric, values in per_metric.items():
            v = np.asarray(values, dtype=np.float64)
            if v.shape != t_all.shape:
                raise ValueError(f"{service}/{metric}: {v.size} values for {t_all.size} timestamps")
            v = v[order]
            keep = np.isfinite(t_sorted) & np.isfinite(v)
            if keep.any():
                out.setdefault(service, {})[metric] = (t_sorted[keep], v[keep])
    return out


def _step(t: Array) -> float:
    """The data's resolution: the median spacing of its timestamps."""
    spacing = np.diff(np.unique(t[np.isfinite(t)]))
    return float(np.median(spacing)) if spacing.size else 0.0
