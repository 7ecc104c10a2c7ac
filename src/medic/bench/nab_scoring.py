"""NAB's scoring, with the semantics of numenta/NAB's `nab/sweeper.py` and `runner.py`.

A detector gives every row of a file an anomaly score in [0, 1]; a row is a detection
when its score is at least the threshold. Each labelled window is worth, at most, the
scaled sigmoid of its first detection's relative position in the window (1.0 at the
window's first row, falling towards 0 at its last), or `-fnWeight` when nothing in it
is detected. A detection outside every window is a false positive costing `fpWeight`
times the scaled sigmoid of its distance past the preceding window (a full
`-fpWeight` when no window precedes it). Rows in the probationary period (the first
15% of a file, at most 750 rows) do not count at all.

The threshold is chosen per profile as NAB does: every distinct anomaly score of the
whole corpus is a candidate, and the one with the highest total score wins (ties go
to the highest threshold). The corpus score is normalised as
`100 * (raw - null) / (perfect - null)`, where `null` is the null detector's raw
score and `perfect` is the number of windows times `tpWeight`.

Everything is vectorised with numpy so that a full corpus scores in well under a
second; the tests compare it with a row-by-row transcription of NAB's sweep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROBATION_PERCENT",
    "CostMatrix",
    "ScoredFile",
    "SweepFile",
    "ThresholdScore",
    "normalise",
    "optimise_threshold",
    "probation_length",
    "scaled_sigmoid",
    "score_file",
    "sweep_file",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PROBATION_PERCENT = 0.15
# NAB's first threshold lies above every score: nothing is detected.
_START_THRESHOLD = 1.1


@dataclass(frozen=True)
class CostMatrix:
    """One profile's weights (config/profiles.json)."""

    tp: float
    fp: float
    fn: float


def scaled_sigmoid(position: FloatArray) -> FloatArray:
    """2 * sigmoid(-5 x) - 1, and -1 for a false positive more than 3 widths past a window."""
    x = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, value)


_MAX_TP = float(scaled_sigmoid(np.array([-1.0]))[0])


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    """Rows `i < probation_length(n)` are ignored (NAB: min(floor(p n), p * 5000))."""
    return min(math.floor(percent * rows), percent * 5000)


@dataclass(frozen=True)
class SweepFile:
    """One file's rows as the sweep sees them, independent of scores and profile.

    `window[i]` is the index (within this file) of the window row i lies in, or -1;
    `weight[i]` is the unweighted sweep value: the scaled-sigmoid TP value divided by
    its maximum inside a window, the (negative) FP value outside; `scorable[i]` is
    False in the probationary period.
    """

    name: str
    windows: tuple[tuple[int, int], ...]
    window: IntArray
    weight: FloatArray
    scorable: BoolArray

    @property
    def rows(self) -> int:
        return int(self.window.size)


def sweep_file(
    name: str,
    rows: int,
    windows: Sequence[tuple[int, int]],
    probation_percent: float = PROBATION_PERCENT,
) -> SweepFile:
    """Pre-compute the sweep values of a file whose windows are inclusive row ranges."""
    window = np.full(rows, -1, dtype=np.int64)
    weight = np.full(rows, -1.0, dtype=np.float64)  # FP before any window
    idx = np.arange(rows, dtype=np.float64)
    ordered = sorted((int(s), int(e)) for s, e in windows)
    for w, (start, end) in enumerate(ordered):
        if not 0 <= start <= end < rows:
            raise ValueError(f"{name}: window {start}..{end} outside 0..{rows - 1}")
        width = float(end - start + 1)
        inside = slice(start, end + 1)
        window[inside] = w
        weight[inside] = scaled_sigmoid(-(end - idx[inside] + 1.0) / width) / _MAX_TP
        nxt = ordered[w + 1][0] if w + 1 < len(ordered) else rows
        after = slice(end + 1, nxt)
        # NAB divides by (width - 1); a one-row window would divide by zero there.
        weight[after] = scaled_sigmoid((idx[after] - end) / max(width - 1.0, 1.0))
    scorable = idx >= probation_length(rows, probation_percent)
    return SweepFile(name, tuple(ordered), window, weight, scorable)


@dataclass(frozen=True)
class ThresholdScore:
    threshold: float
    score: float


def _weighted(sweep: SweepFile, cost: CostMatrix) -> FloatArray:
    return np.where(sweep.window >= 0, sweep.weight * cost.tp, sweep.weight * cost.fp)


def optimise_threshold(
    files: Sequence[SweepFile], scores: Sequence[FloatArray], cost: CostMatrix
) -> ThresholdScore:
    """The corpus threshold with the highest total score, as NAB's optimizer finds it.

    Walks the scorable rows of all files from the highest anomaly score down; after
    each distinct score the total is: every window's best TP value (or -fn), plus the
    FP values of the detections outside windows.
    """
    anomaly, value, group = [], [], []
    offset = 0
    for sweep, score in zip(files, scores, strict=True):
        keep = sweep.scorable
        window = sweep.window[keep]
        anomaly.append(np.asarray(score, dtype=np.float64)[keep])
        value.append(_weighted(sweep, cost)[keep])
        group.append(np.where(window >= 0, window + offset, -1))
        offset += len(sweep.windows)
    a = np.concatenate(anomaly) if anomaly else np.zeros(0)
    v = np.concatenate(value) if value else np.zeros(0)
    g = np.concatenate(group) if group else np.zeros(0, dtype=np.int64)
    windows_seen = np.unique(g[g >= 0]).size
    base = -cost.fn * windows_seen
    if a.size == 0:
        return ThresholdScore(_START_THRESHOLD, base)
    order = np.argsort(-a, kind="stable")
    a, v, g = a[order], v[order], g[order]
    gain = np.where(g < 0, v, 0.0)
    gain += _window_gains(v, g, cost.fn)
    totals = base + np.cumsum(gain)
    # A threshold's total is the one after its last (lowest-ranked) row.
    last = np.r_[a[1:] != a[:-1], True]
    thresholds = np.r_[_START_THRESHOLD, a[last]]
    candidates = np.r_[base, totals[last]]
    best = int(np.argmax(candidates))  # first maximum: the highest threshold
    return ThresholdScore(float(thresholds[best]), float(candidates[best]))


def _window_gains(value: FloatArray, group: IntArray, fn: float) -> FloatArray:
    """How much each row raises its window's best value so far (0 outside windows).

    A window starts at -fn; its value is the running maximum of its rows' values in
    the sweep order. A per-window cumulative maximum is computed in one pass by
    sorting rows by window (stably, so the sweep order survives) and lifting each
    window above the previous ones by a constant larger than any value range.
    """
    gains = np.zeros(value.size, dtype=np.float64)
    rows = np.flatnonzero(group >= 0)
    if rows.size == 0:
        return gains
    rows = rows[np.argsort(group[rows], kind="stable")]
    grp, val = group[rows], value[rows]
    lift = (np.abs(val).max() + fn + 1.0) * 2.0
    starts = np.r_[True, grp[1:] != grp[:-1]]
    rank = np.cumsum(starts) - 1
    lifted = val + rank * lift
    floor = -fn + rank * lift
    running = np.maximum.accumulate(np.maximum(lifted, floor))
    before = np.where(starts, floor, np.r_[floor[0], running[:-1]])
    gains[rows] = running - before
    return gains


@dataclass(frozen=True)
class ScoredFile:
    """One file at a fixed threshold: NAB's per-file row of the scores CSV."""

    score: float
    detected_windows: int
    windows: int
    tp: int  # detected rows inside windows
    fp: int  # detected rows outside windows


def score_file(
    sweep: SweepFile, scores: FloatArray, threshold: float, cost: CostMatrix
) -> ScoredFile:
    """The file's score when every scorable row with score >= threshold is a detection."""
    detected = sweep.scorable & (np.asarray(scores, dtype=np.float64) >= threshold)
    weighted = _weighted(sweep, cost)
    outside = detected & (sweep.window < 0)
    total = float(weighted[outside].sum())
    counted = 0
    found = 0
    for w in range(len(sweep.windows)):
        member = sweep.window == w
        if not (member & sweep.scorable).any():
            continue  # a window lost to probation counts for nothing, as in NAB
        counted += 1
        hit = member & detected
        if hit.any():
            found += 1
            total += max(float(weighted[hit].max()), -cost.fn)
        else:
            total -= cost.fn
    inside = detected & (sweep.window >= 0)
    return ScoredFile(total, found, counted, int(inside.sum()), int(outside.sum()))


def normalise(raw: float, null: float, windows: int, cost: CostMatrix) -> float:
    """NAB's final score: 0 for the null detector, 100 for a perfect one."""
    perfect = windows * cost.tp
    return 100.0 * (raw - null) / (perfect - null)
