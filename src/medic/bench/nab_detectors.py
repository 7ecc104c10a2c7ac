"""The detectors `medic bench nab` can stream: medic's own, and NAB's references.

- `null`: never detects; NAB's zero.
- `windowed_gaussian`: NAB's `windowedGaussian_detector.py` (window 6400, step 100):
  the score is 1 - Q(z) of the value against the mean and standard deviation of the
  window of earlier values. It is computed in closed form here (cumulative sums for
  the growing window, one mean/std per step after it) instead of row by row, with
  the same result.
- `cad_ose`: the Contextual Anomaly Detector (`medic.signals.cad`) run as NAB runs
  it (`context_ose_detector.py`): told the file's minimum and maximum, as NAB's base
  detector tells every detector, and silent for a fifth of the probationary period
  after an alarm.
- `streaming`: `medic.signals.streaming.StreamingDetector`, the watchdog's detector.
- `medic`: medic's pick for streamed series, currently `cad_ose`. Blends of it with
  `streaming` (the larger of the two, weighted means, `streaming` as a tie-breaker
  among CAD's alarms) all scored at or below CAD alone on the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from medic.bench.nab_scoring import PROBATION_PERCENT
from medic.signals.cad import CadConfig, cad_scores
from medic.signals.streaming import score_series

__all__ = [
    "DETECTORS",
    "Detector",
    "cad_ose_scores",
    "medic_scores",
    "null_scores",
    "streaming_scores",
    "windowed_gaussian_scores",
]

FloatArray = npt.NDArray[np.float64]
Detector = Callable[[FloatArray, FloatArray], FloatArray]  # (times, values) -> scores

WG_WINDOW = 6400
WG_STEP = 100
_WG_MIN_STD = 0.000001


def null_scores(times: FloatArray, values: FloatArray) -> FloatArray:
    return np.zeros(values.size, dtype=np.float64)


def _tail_score(values: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    """1 - Q(|x - mean| / std), Q the normal tail (NAB's normalProbability)."""
    z = np.abs(values - mean) / std
    q = np.array([0.5 * math.erfc(x / math.sqrt(2.0)) for x in z.tolist()], dtype=np.float64)
    return 1.0 - q


def windowed_gaussian_scores(times: FloatArray, values: FloatArray) -> FloatArray:
    """Row i is scored against the window NAB's detector holds when i arrives."""
    n = values.size
    scores = np.zeros(n, dtype=np.float64)
    if n < 2:
        return scores
    mean = np.empty(n - 1, dtype=np.float64)
    std = np.empty(n - 1, dtype=np.float64)
    # Rows 1..min(n-1, WG_WINDOW): the window is every earlier row. Shifting by the
    # first value keeps the running sums of squares well conditioned.
    grow = min(n - 1, WG_WINDOW)
    shifted = values[:grow] - values[0]
    count = np.arange(1, grow + 1, dtype=np.float64)
    m = np.cumsum(shifted) / count
    var = np.maximum(np.cumsum(shifted * shifted) / count - m * m, 0.0)
    mean[:grow] = m + values[0]
    std[:grow] = np.sqrt(var)
    # Later rows: the window moves on by WG_STEP rows each time WG_STEP rows arrived,
    # so rows WG_WINDOW + k*WG_STEP ... + WG_STEP - 1 all see values[k*WG_STEP:][:WG_WINDOW].
    for k in range((n - 1 - WG_WINDOW) // WG_STEP + 1 if n - 1 > WG_WINDOW else 0):
        first = max(WG_WINDOW + 1, WG_WINDOW + k * WG_STEP)
        upto = min(WG_WINDOW + (k + 1) * WG_STEP, n)
        window = values[k * WG_STEP : k * WG_STEP + WG_WINDOW]
        mean[first - 1 : upto - 1] = np.mean(window)
        std[first - 1 : upto - 1] = np.std(window)
    std = np.where(std == 0.0, _WG_MIN_STD, std)
    scores[1:] = _tail_score(values[1:], mean, std)
    return scores


def cad_ose_scores(times: FloatArray, values: FloatArray) -> FloatArray:
    """CAD OSE as NAB runs it: told the file's range, silent for a fifth of the
    probationary period after each alarm."""
    probation = math.floor(PROBATION_PERCENT * values.size)
    return cad_scores(values, CadConfig(rest_period=int(probation / 5.0)))


def streaming_scores(times: FloatArray, values: FloatArray) -> FloatArray:
    return score_series(times, values)


def medic_scores(times: FloatArray, values: FloatArray) -> FloatArray:
    return cad_ose_scores(times, values)


DETECTORS: Mapping[str, Detector] = {
    "medic": medic_scores,
    "cad_ose": cad_ose_scores,
    "streaming": streaming_scores,
    "windowed_gaussian": windowed_gaussian_scores,
    "null": null_scores,
}
