"""How far a series moved after the onset, in robust units, counted where it hurts.

For one series split at the onset into a baseline (before) and a fault window
(after):

- The baseline's centre is its median and its spread its interquartile range
  (BARO's RobustScorer uses the same pair: a few outliers in the baseline must not
  hide a shift). The spread is floored at `relative_floor` of the larger of the two
  levels: a series that was flat (a memory gauge, a counter at zero) would otherwise
  make a move of one byte infinitely significant (a move from a flat baseline scores
  at most 1 / `relative_floor`: high, but finite), and a baseline recorded apart from
  the fault window (another hour, another day) differs by a few per cent anyway.
- The fault window's level is read at a quantile on the harmful side (`level_q`: the
  level the series held for at least a quarter of the window), not at its maximum: a
  glitch of a few samples (a scrape at a restart, a counter reset) must not decide,
  while a fault that lasts only part of the window still counts.
- The move is signed; the series' kind (`kinds.kind_of`) says how much a rise and a
  fall count as harm. A rise of latency is trouble, a fall of memory is not; a series
  of unknown kind counts both ways at half weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medic.analysis.kinds import SeriesKind, harm_of, kind_of
from medic.analysis.stats import Array

__all__ = ["Baseline", "ScoringParams", "SeriesScore", "departure", "magnitude", "score_series"]


@dataclass(frozen=True)
class ScoringParams:
    relative_floor: float = 0.05  # the spread is never below 5% of the baseline's level
    absolute_floor: float = 1e-9
    level_q: float = 50.0  # the fault window's level: this quantile on the harmful side
    min_points: int = 3  # on each side of the onset
    peer_weight: float = 0.5  # how much the peers' magnitude floors a series' spread
    anomaly_z: float = 4.0  # this far (harm-weighted) off the baseline is anomalous


@dataclass(frozen=True)
class SeriesScore:
    metric: str
    kind: SeriesKind
    z: float  # signed robust move: (level after - median before) / spread
    harm: float  # the move weighted by how much its direction hurts (>= 0)
    baseline: float  # median before
    level: float  # the level after (at the harmful-side quantile)
    spread: float


@dataclass(frozen=True)
class Baseline:
    """A baseline's quartiles and typical size (its median's, or its mean absolute
    value's), computed once per series."""

    q1: float
    centre: float
    q3: float
    magnitude: float

    @classmethod
    def of(cls, pre: Array) -> Baseline:
        q1, centre, q3 = (float(x) for x in np.percentile(pre, [25, 50, 75]))
        return cls(q1, centre, q3, max(abs(centre), float(np.mean(np.abs(pre)))))


def magnitude(pre: Array) -> float:
    """A baseline's typical size: its median's, or its mean absolute value's."""
    return Baseline.of(pre).magnitude if pre.size else 0.0


def _spread(base: Baseline, level: float, peer: float, p: ScoringParams) -> float:
    # The baseline's own magnitude, or its peers' (the same series of the other
    # services: same name, same unit) when that is larger: a near-idle service
    # doing a little work is a huge move in its own units and a small one in the
    # system's. Only a baseline of exactly zero everywhere borrows the new level's
    # (a move from nothing then scores 1 / relative_floor).
    size = max(base.magnitude, p.peer_weight * peer)
    if size <= p.absolute_floor:
        size = abs(level)
    return max(base.q3 - base.q1, p.relative_floor * size, p.absolute_floor)


def score_series(
    metric: str,
    pre: Array,
    post: Array,
    params: ScoringParams | None = None,
    peer: float = 0.0,
    baseline: Baseline | None = None,
) -> SeriesScore | None:
    """The harm-weighted robust move of one series; None when either side is too short.
    `baseline`, when given, is `Baseline.of(pre)` already computed."""
    p = params or ScoringParams()
    if pre.size < p.min_points or post.size < p.min_points:
        return None
    kind = kind_of(metric)
    harm = harm_of(kind)
    base = baseline or Baseline.of(pre)
    centre = base.centre
    low, high = (float(x) for x in np.percentile(post, [100.0 - p.level_q, p.level_q]))
    up_spread = _spread(base, high, peer, p)
    down_spread = _spread(base, low, peer, p)
    up = max(high - centre, 0.0) / up_spread
    down = max(centre - low, 0.0) / down_spread
    weighted_up, weighted_down = harm.up * up, harm.down * down
    if weighted_up >= weighted_down:
        return SeriesScore(metric, kind, up, weighted_up, centre, high, up_spread)
    return SeriesScore(metric, kind, -down, weighted_down, centre, low, down_spread)


def departure(t: Array, v: Array, onset: float, score: SeriesScore, anomaly_z: float) -> float:
    """First instant from `onset` on where the series (3-point median) has moved at
    least `anomaly_z` spreads in the direction of its score; `onset` if never."""
    post = t >= onset
    tv, vv = t[post], v[post]
    if vv.size >= 3:
        padded = np.concatenate(([vv[0]], vv, [vv[-1]]))
        smooth = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    else:
        smooth = vv
    sign = 1.0 if score.z >= 0 else -1.0
    moved = sign * (smooth - score.baseline) / score.spread
    off = np.nonzero(moved >= anomaly_z)[0]
    # The score says the level moved; if smoothing hides where, the onset is honest.
    return float(tv[off[0]]) if off.size else onset
