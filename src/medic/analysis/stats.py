"""Robust statistics: change points, slopes, scales.

Pure numpy over arrays, shared by the watchdog's detectors (`signals.detectors`), the
diagnostician and the benchmarks: one copy of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "Array",
    "ChangePoint",
    "Shape",
    "change_point",
    "iqr_sigma",
    "mad_sigma",
    "theil_sen_slope",
]

Array = npt.NDArray[np.float64]

_MAX_PAIRS_POINTS = 300
_MAD_TO_SIGMA = 1.4826
_MAX_CANDIDATES = 400


class Shape(StrEnum):
    STEP = "step"  # the level jumped to a new value
    RAMP = "ramp"  # the level started to climb (or fall) steadily


@dataclass(frozen=True)
class ChangePoint:
    index: int  # first point of the changed regime
    shape: Shape


def iqr_sigma(values: Array) -> float:
    """Standard deviation estimated from the interquartile range."""
    if values.size < 2:
        return 0.0
    q1, q3 = np.percentile(values, [25, 75])
    return float((q3 - q1) / 1.349)


def mad_sigma(values: Array) -> float:
    """Standard deviation estimated from the median absolute deviation."""
    if values.size == 0:
        return 0.0
    return float(_MAD_TO_SIGMA * np.median(np.abs(values - np.median(values))))


def theil_sen_slope(t: Array, v: Array, max_points: int = _MAX_PAIRS_POINTS) -> float:
    """Median of pairwise slopes (units per second); robust to spikes. Long series are
    thinned to `max_points` evenly spaced points (the pairs grow quadratically)."""
    if t.size < 2:
        return 0.0
    if t.size > max_points:
        idx = np.linspace(0, t.size - 1, max_points).astype(int)
        t, v = t[idx], v[idx]
    i, j = np.triu_indices(t.size, k=1)
    dt = t[j] - t[i]
    ok = dt > 0
    return float(np.median((v[j] - v[i])[ok] / dt[ok])) if ok.any() else 0.0


def change_point(t: Array, v: Array, min_segment: int = 8) -> ChangePoint | None:
    """The single best change point, as a step (two levels) or a ramp (hinge).

    Both models have three parameters, so their residual sums of squares compare
    fairly; the better one wins. None when the series is too short to split.
    """
    n = t.size
    if n < 2 * min_segment:
        return None
    candidates = np.unique(np.linspace(min_segment, n - min_segment, _MAX_CANDIDATES).astype(int))
    step_sse, step_k = _best_step(v, candidates)
    ramp_sse, ramp_k = _best_ramp(t, v, candidates)
    if ramp_sse < step_sse:
        return ChangePoint(ramp_k, Shape.RAMP)
    return ChangePoint(step_k, Shape.STEP)


def _best_step(v: Array, candidates: npt.NDArray[np.int_]) -> tuple[float, int]:
    n = v.size
    c1 = np.concatenate(([0.0], np.cumsum(v)))
    c2 = np.concatenate(([0.0], np.cumsum(v * v)))
    k = candidates
    left = c2[k] - c1[k] ** 2 / k
    right = (c2[n] - c2[k]) - (c1[n] - c1[k]) ** 2 / (n - k)
    sse = left + right
    best = int(np.argmin(sse))
    return float(sse[best]), int(k[best])


def _best_ramp(t: Array, v: Array, candidates: npt.NDArray[np.int_]) -> tuple[float, int]:
    taus = t[candidates]
    x = np.maximum(0.0, t[None, :] - taus[:, None])
    xc = x - x.mean(axis=1, keepdims=True)
    vc = v - v.mean()
    sxx = np.einsum("ij,ij->i", xc, xc)
    sxv = xc @ vc
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = np.where(sxx > 0, sxv * sxv / sxx, 0.0)
    sse = float(vc @ vc) - explained
    best = int(np.argmin(sse))
    return float(sse[best]), int(candidates[best])
