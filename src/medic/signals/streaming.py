"""A streaming anomaly detector: one point in, one anomaly score in [0, 1] out.

The watchdog's detectors (`medic.signals.detectors`) judge a whole window at once;
this one follows a series point by point, as `medic bench nab` streams NAB's corpus
through it, and keeps only bounded state (a few thousand recent values).

Each point is compared with a robust baseline of the recent past (median and MAD of
the last `baseline_points` values, refreshed every `refresh_every` points):

- spike: how many robust sigmas the point lies from the baseline median;
- level shift: the same for the median of the last `level_points` points, so that a
  sustained new level stands out even when no single point is extreme;
- trend: the least-squares rise over the last `trend_points` points, in sigmas
  (weighted by `trend_weight`, 0 by default: on NAB it cost 1.5 points and on a
  synthetic ramp it fired no earlier than the level component, so slow growth is
  left to the watchdog's `detect_leak`, which judges a whole window);
- seasonality: when the timestamps are regular and a day holds a whole number of
  steps, the difference from the same time a day ago gets a baseline of its own, and
  when that explains the series much better than the plain baseline (its scale is
  under `seasonal_ratio` of the plain one) the day-ago deviation is what counts: a
  daily peak is not news, and a peak that fails to come is.

The largest deviation is then calibrated against the series' own history: it is
divided by a high quantile of the deviations seen so far, so a series whose normal
life is spiky (tweet volumes) must be more extreme than a calm one to score high.
Finally a score that does not exceed the highest of the previous `holdoff_points`
scores is damped: an anomaly is reported at its onset, not again at every point of
it, because a second alarm about the same trouble is only noise to a human.

The defaults are a handful of global values chosen on the NAB corpus as a whole
(never per file, never from its labels beyond the corpus score).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["StreamingConfig", "StreamingDetector", "score_series"]

FloatArray = npt.NDArray[np.float64]

_MAD_TO_SIGMA = 1.4826
_DAY_S = 86400.0


@dataclass(frozen=True)
class StreamingConfig:
    baseline_points: int = 2000
    refresh_every: int = 20
    min_history: int = 50
    level_points: int = 6
    level_weight: float = 1.5  # a median of several points is quieter than one point
    trend_points: int = 30
    trend_weight: float = 0.0
    seasonal_ratio: float = 0.5
    calibration_points: int = 6000
    calibration_every: int = 50
    calibration_min: int = 150
    calibration_quantile: float = 0.99
    calibration_floor: float = 3.0
    scale: float = 2.0  # calibrated deviation at which the score is 0.5
    holdoff_points: int = 200
    holdoff_damping: float = 0.5
    period_probe: int = 20  # points used to estimate the sampling step


class _Baseline:
    """Median and robust sigma of a bounded history (a ring buffer), refreshed on demand."""

    def __init__(self, size: int) -> None:
        self._buffer = np.zeros(size, dtype=np.float64)
        self._next = 0
        self.count = 0
        self.median = 0.0
        self.sigma = 0.0
        self.ready = False

    def append(self, x: float) -> None:
        self._buffer[self._next] = x
        self._next = (self._next + 1) % self._buffer.size
        self.count = min(self.count + 1, self._buffer.size)

    def refresh(self) -> None:
        h = self._buffer[: self.count]
        # The middle element by partial sort: np.median's extra work triples the cost,
        # and this runs every few points.
        k = h.size // 2
        med = float(np.partition(h, k)[k])
        spread = np.abs(h - med)
        spread.partition(k)
        mad = float(spread[k]) * _MAD_TO_SIGMA
        # A series that is mostly one value has MAD 0; a quarter of its standard
        # deviation (and a tiny fraction of its level) keep the scale finite.
        self.sigma = max(mad, 0.25 * float(h.std()), 1e-6 * (abs(med) + 1e-3))
        self.median = med
        self.ready = True

    def deviation(self, x: float) -> float:
        return abs(x - self.median) / self.sigma if self.ready else 0.0


class StreamingDetector:
    """Feed `update(time, value)` in time order; each call returns the point's score."""

    def __init__(self, config: StreamingConfig | None = None) -> None:
        self.config = c = config or StreamingConfig()
        self._n = 0
        self._plain = _Baseline(c.baseline_points)
        self._seasonal = _Baseline(c.baseline_points)
        self._recent: deque[float] = deque(maxlen=max(c.level_points, c.trend_points))
        self._times: list[float] = []
        self._period = 0  # points per day, 0 while unknown or not regular
        self._day: deque[float] = deque()
        self._devs: deque[float] = deque(maxlen=c.calibration_points)
        self._norm = c.calibration_floor
        self._scores: deque[tuple[int, float]] = deque()  # sliding maximum, decreasing
        t = np.arange(c.trend_points, dtype=np.float64)
        centred = t - t.mean()
        # slope = sum(w_i * y_i) for evenly spaced points: the least-squares weights.
        self._slope_weights = (centred / float(np.dot(centred, centred))).tolist()

    def update(self, time: float, value: float) -> float:
        x = float(value)
        if not math.isfinite(x):
            return 0.0
        self._learn_period(time)
        deviation = self._deviation(x)
        self._remember(x)
        score = self._calibrate(deviation)
        return self._holdoff(score)

    def _learn_period(self, time: float) -> None:
        c = self.config
        if len(self._times) > c.period_probe:
            return
        self._times.append(time)
        if len(self._times) == c.period_probe + 1:
            step = float(np.median(np.diff(np.asarray(self._times))))
            per_day = _DAY_S / step if step > 0 else 0.0
            if per_day >= 4 and abs(per_day - round(per_day)) < 0.01:
                self._period = round(per_day)
                self._day = deque(maxlen=self._period)

    def _deviation(self, x: float) -> float:
        c = self.config
        if self._n < c.min_history:
            return 0.0
        if (self._n - c.min_history) % c.refresh_every == 0:
            self._plain.refresh()
            if self._seasonal.count >= c.min_history:
                self._seasonal.refresh()
        plain = self._plain
        spike = plain.deviation(x)
        level = 0.0
        if len(self._recent) >= c.level_points - 1:
            last = sorted([*list(self._recent)[-(c.level_points - 1) :], x])
            mid = len(last) // 2
            median = last[mid] if len(last) % 2 else (last[mid - 1] + last[mid]) / 2
            level = plain.deviation(median) * c.level_weight
        trend = self._trend(x) * c.trend_weight if c.trend_weight else 0.0
        deviation = max(spike, level, trend)
        seasonal = self._seasonal
        if (
            seasonal.ready
            and self._period
            and len(self._day) == self._period
            and seasonal.sigma < c.seasonal_ratio * plain.sigma
        ):
            deviation = seasonal.deviation(x - self._day[0])
        return deviation

    def _trend(self, x: float) -> float:
        """The least-squares rise across the last `trend_points` points, in sigmas."""
        c = self.config
        if len(self._recent) < c.trend_points - 1 or not self._plain.ready:
            return 0.0
        y = [*list(self._recent)[-(c.trend_points - 1) :], x]
        slope = sum(w * v for w, v in zip(self._slope_weights, y, strict=True))
        return float(abs(slope) * len(y) / self._plain.sigma)

    def _remember(self, x: float) -> None:
        if self._period and len(self._day) == self._period:
            self._seasonal.append(x - self._day[0])
        if self._period:
            self._day.append(x)
        self._plain.append(x)
        self._recent.append(x)
        self._n += 1

    def _calibrate(self, deviation: float) -> float:
        c = self.config
        if self._n > c.min_history:
            self._devs.append(deviation)
        count = len(self._devs)
        seen = self._n - c.min_history  # grows on after the history is full
        if count >= c.calibration_min and (seen - c.calibration_min) % c.calibration_every == 0:
            history = np.fromiter(self._devs, dtype=np.float64, count=count)
            quantile = float(np.quantile(history, c.calibration_quantile))
            self._norm = max(quantile, c.calibration_floor)
        if count < c.calibration_min:
            return 0.0
        relative = deviation / self._norm
        return relative / (relative + c.scale)

    def _holdoff(self, score: float) -> float:
        """Damp a score that does not beat the maximum of the previous scores."""
        c = self.config
        i = self._n
        window = self._scores
        while window and window[0][0] < i - c.holdoff_points:
            window.popleft()
        previous = window[0][1] if window else 0.0
        while window and window[-1][1] <= score:
            window.pop()
        window.append((i, score))
        return score if score > previous else score * c.holdoff_damping


def score_series(
    times: Sequence[float] | FloatArray,
    values: Sequence[float] | FloatArray,
    config: StreamingConfig | None = None,
) -> FloatArray:
    """Stream a whole series through a fresh detector; one score per point."""
    detector = StreamingDetector(config)
    t = np.asarray(times, dtype=np.float64).tolist()
    v = np.asarray(values, dtype=np.float64).tolist()
    return np.asarray([detector.update(a, b) for a, b in zip(t, v, strict=True)], dtype=np.float64)
