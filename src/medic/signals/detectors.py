"""Watchdog detectors: pure functions over `Series`, no I/O.

Each detector looks at one series ending "now" (its last point) and returns a
finding or None. They are pure so that the watchdog can run them on what the ports
return and a benchmark (NAB) can stream them over recorded data.

The statistics are robust on purpose (medians, MAD, Theil-Sen): telemetry is noisy,
has spikes and gaps, and a detector that fires on noise trains people to ignore it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medic.analysis.stats import mad_sigma, theil_sen_slope
from medic.domain.model import Series

__all__ = [
    "LeakFinding",
    "ShiftFinding",
    "Trend",
    "detect_error_jump",
    "detect_leak",
    "detect_level_shift",
    "hinge_onset",
    "robust_sigma",
    "theil_sen",
]

Array = npt.NDArray[np.float64]

# MAD -> standard deviation for normally distributed noise.
# Theil-Sen is O(n^2) in pairs; above this many points we subsample evenly.
_MAX_TS_POINTS = 400
# An error ratio up by this much (absolute) is reported after this many seconds.
_QUICK_ERRORS_S = 150.0
_QUICK_ERRORS_RISE = 0.05
# A shift must still hold over the last this many points to be reported.
_STILL_POINTS = 4
# Hinge onset candidates tried at most (evenly spaced over the series).
_MAX_HINGE_CANDIDATES = 400


@dataclass(frozen=True)
class Trend:
    """A straight line through a series: value(t) = level + slope * (t - t_ref)."""

    slope: float  # units per second
    level: float  # value at t_ref
    t_ref: float
    noise: float  # robust sigma of the residuals around the line

    def at(self, t: float) -> float:
        return self.level + self.slope * (t - self.t_ref)


@dataclass(frozen=True)
class LeakFinding:
    """Steady growth towards a limit."""

    onset: float  # Unix seconds when the growth began (estimated)
    slope: float  # units per second since the onset
    baseline: float  # level just before the onset
    current: float  # trend value at the last point
    limit: float
    seconds_to_limit: float  # 0 when already at the limit
    noise: float


@dataclass(frozen=True)
class ShiftFinding:
    """The recent window's level moved away from the baseline window's."""

    onset: float  # Unix seconds when the new level began (estimated)
    baseline: float  # median of the baseline window
    recent: float  # median of the recent window
    z: float  # (recent - baseline) / robust scale of the baseline


def _arrays(series: Series) -> tuple[Array, Array]:
    t = np.asarray(series.times(), dtype=np.float64)
    v = np.asarray(series.values(), dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(v)
    return t[keep], v[keep]


def robust_sigma(values: Array) -> float:
    """Standard deviation estimated from the median absolute deviation."""
    return mad_sigma(values)


def theil_sen(t: Array, v: Array) -> Trend:
    """Median of pairwise slopes: a line that ignores up to ~29% outliers."""
    if t.size < 2:
        level = float(v[0]) if v.size else 0.0
        return Trend(0.0, level, float(t[0]) if t.size else 0.0, 0.0)
    slope = theil_sen_slope(t, v, max_points=_MAX_TS_POINTS)
    t_ref = float(t[-1])
    level = float(np.median(v - slope * (t - t_ref)))
    noise = mad_sigma(v - (level + slope * (t - t_ref)))
    return Trend(slope, level, t_ref, noise)


def hinge_onset(t: Array, v: Array, min_tail: int = 8) -> float:
    """When a flat series turned into a straight ramp: the least-squares hinge point.

    Fits v = a + b * max(0, t - tau) for candidate taus and returns the best tau.
    The first candidate is the first point, so a ramp older than the data returns
    the data's start.
    """
    n = t.size
    if n < min_tail + 2:
        return float(t[0]) if n else 0.0
    last = n - min_tail
    count = min(last, _MAX_HINGE_CANDIDATES)
    taus = t[np.unique(np.linspace(0, last - 1, count).astype(int))]
    x = np.maximum(0.0, t[None, :] - taus[:, None])
    xc = x - x.mean(axis=1, keepdims=True)
    vc = v - v.mean()
    sxx = np.einsum("ij,ij->i", xc, xc)
    sxv = xc @ vc
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = np.where(sxx > 0, sxv * sxv / sxx, 0.0)
    # Only rising ramps are onsets of growth.
    explained = np.where(sxv > 0, explained, -np.inf)
    return float(taus[int(np.argmax(explained))])


def _after_last_reset(t: Array, v: Array) -> tuple[Array, Array]:
    """Keep the points after the last sudden drop (an OOM kill or a restart)."""
    if v.size < 3:
        return t, v
    drops = np.nonzero(v[1:] < 0.85 * v[:-1])[0]
    if drops.size == 0:
        return t, v
    cut = int(drops[-1]) + 1
    return t[cut:], v[cut:]


def detect_leak(
    usage: Series,
    limit: float | None,
    *,
    window_s: float = 3600.0,
    horizon_s: float = 6 * 3600.0,
    min_span_s: float = 900.0,
    min_points: int = 20,
    noise_factor: float = 6.0,
    min_growth: float = 0.05,
) -> LeakFinding | None:
    """Steady growth that reaches `limit` within `horizon_s`.

    The onset is searched in the whole series (which may reach further back than
    the window); the growth is then judged on what came after the onset, at most
    the last `window_s` and at least `min_span_s`. It fires only when the rise is
    large against the residual noise (`noise_factor` sigmas) and against the level
    (`min_growth`), every quarter of that stretch sits above the one before, and
    the growth is still going on in its second half (a warm-up that has plateaued
    is not a leak).
    """
    if not limit or limit <= 0:
        return None
    t_all, v_all = _after_last_reset(*_arrays(usage))
    if t_all.size < min_points:
        return None
    end = float(t_all[-1])
    onset = hinge_onset(t_all, v_all)
    judged = t_all >= max(onset, end - window_s)
    t, v = t_all[judged], v_all[judged]
    span = float(t[-1] - t[0]) if t.size else 0.0
    if t.size < min_points or span < min_span_s:
        return None
    trend = theil_sen(t, v)
    rise = trend.slope * span
    if trend.slope <= 0 or rise < noise_factor * trend.noise:
        return None
    if rise < min_growth * float(np.median(v)):
        return None
    if not _steady(t, v, trend.slope):
        return None
    current = trend.at(end)
    seconds_to_limit = max(0.0, (limit - current) / trend.slope)
    if seconds_to_limit > horizon_s:
        return None
    before = v_all[(t_all < onset) & (t_all >= onset - window_s)]
    baseline = float(np.median(before)) if before.size else trend.at(onset)
    return LeakFinding(
        onset=onset,
        slope=trend.slope,
        baseline=baseline,
        current=current,
        limit=float(limit),
        seconds_to_limit=seconds_to_limit,
        noise=trend.noise,
    )


def _steady(t: Array, v: Array, slope: float) -> bool:
    edges = np.linspace(t[0], t[-1], 5)
    medians = []
    for lo, hi in itertools.pairwise(edges):
        part = v[(t >= lo) & (t <= hi)]
        if part.size == 0:
            return False
        medians.append(float(np.median(part)))
    if any(b <= a for a, b in itertools.pairwise(medians)):
        return False
    half = t >= t[0] + (t[-1] - t[0]) / 2
    return theil_sen(t[half], v[half]).slope >= 0.4 * slope


def detect_level_shift(
    series: Series,
    *,
    recent_s: float = 600.0,
    baseline_s: float = 3000.0,
    min_z: float = 6.0,
    min_relative: float = 0.3,
    abs_floor: float = 0.0,
    min_points: int = 8,
    fast_s: float = 240.0,
    fast_z_factor: float = 1.5,
    fast_share: float = 0.9,
) -> ShiftFinding | None:
    """The median of the last `recent_s` rose well above the `baseline_s` before it.

    A brief blip does not move a median of a 10-minute window, and at least 70% of
    the recent points must sit above the halfway mark, so only a sustained new
    level fires. `abs_floor` bounds the baseline's scale from below: a series that
    is perfectly flat (0% errors) must not make every small wiggle infinitely
    significant.

    A step change is also caught sooner, on the last `fast_s` alone, when it is
    unmistakable: `fast_z_factor` times the usual significance and `fast_share` of
    those points above the halfway mark, so a blip shorter than `fast_s` (or one
    that has started to fade) still raises nothing.
    """
    t, v = _arrays(series)
    if t.size == 0:
        return None
    found = _shift(t, v, recent_s, baseline_s, min_z, min_relative, abs_floor, min_points, 0.7)
    if found is None and 0 < fast_s < recent_s:
        found = _shift(
            t,
            v,
            fast_s,
            baseline_s,
            min_z * fast_z_factor,
            min_relative,
            abs_floor,
            min_points,
            fast_share,
        )
    return found


def _shift(
    t: Array,
    v: Array,
    recent_s: float,
    baseline_s: float,
    min_z: float,
    min_relative: float,
    abs_floor: float,
    min_points: int,
    share: float,
) -> ShiftFinding | None:
    end = float(t[-1])
    recent_mask = t > end - recent_s
    base_mask = (t <= end - recent_s) & (t > end - recent_s - baseline_s)
    recent, base = v[recent_mask], v[base_mask]
    if recent.size < min_points or base.size < min_points:
        return None
    base_med = float(np.median(base))
    recent_med = float(np.median(recent))
    scale = max(robust_sigma(base), abs_floor, 1e-3 * abs(base_med), 1e-12)
    z = (recent_med - base_med) / scale
    if z < min_z or recent_med - base_med < min_relative * abs(base_med):
        return None
    halfway = base_med + (recent_med - base_med) / 2
    if float(np.mean(recent > halfway)) < share:
        return None
    if float(np.median(recent[-_STILL_POINTS:])) <= halfway:
        return None  # already back down: trouble that has ended is not news
    return ShiftFinding(
        onset=_shift_onset(t, v, halfway, end - recent_s - baseline_s),
        baseline=base_med,
        recent=recent_med,
        z=z,
    )


def _shift_onset(t: Array, v: Array, halfway: float, earliest: float) -> float:
    """Walk back from the end while a short rolling median stays above the halfway mark."""
    k = 5
    onset = float(t[-1])
    for i in range(t.size - 1, -1, -1):
        if t[i] < earliest:
            break
        if float(np.median(v[max(0, i - k + 1) : i + 1])) <= halfway:
            break
        onset = float(t[max(0, i - k + 1)])
    return onset


def detect_error_jump(
    series: Series,
    *,
    recent_s: float = 600.0,
    baseline_s: float = 3000.0,
    min_increase: float = 0.02,
) -> ShiftFinding | None:
    """The error ratio's recent median rose by at least `min_increase` (absolute).

    Ratios live near zero, where relative changes mean little (0.1% -> 0.3% is
    "tripled" and harmless), so this asks for an absolute rise as well. A rise of
    `_QUICK_ERRORS_RISE` or more is reported after `_QUICK_ERRORS_S` already.
    """

    def shift(fast_s: float) -> ShiftFinding | None:
        return detect_level_shift(
            series,
            recent_s=recent_s,
            baseline_s=baseline_s,
            min_z=4.0,
            min_relative=1.0,
            abs_floor=0.005,
            fast_s=fast_s,
        )

    found = shift(240.0)
    if found is None:
        # Many more failures are news sooner: a bigger rise, over a shorter stretch.
        found = shift(_QUICK_ERRORS_S)
        if found is not None and found.recent - found.baseline < _QUICK_ERRORS_RISE:
            return None
    if found is None or found.recent - found.baseline < min_increase:
        return None
    return found
