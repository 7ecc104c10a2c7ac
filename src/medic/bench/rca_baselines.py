"""The simplest published baselines, scored on the same cases as medic.

- `random`: the expected value of a uniformly random ranking of the case's services
  (AC@k = min(k, n) / n).
- `nsigma`: per column, the fault window standardised by the normal window's mean and
  standard deviation; the column's score is its maximum; services ranked by their best
  column (RCAEval's N-sigma).
- `baro`: the same with the median and interquartile range (RCAEval's BARO
  RobustScorer, as published: `RobustScaler` fitted on the normal window, the maximum
  of the transformed fault window, columns constant in a window dropped, a zero spread
  taken as 1).

Both need the inject time; on a case without one they use medic's onset, so they are
compared on the same split.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medic.analysis.stats import Array

__all__ = ["BASELINES", "baro", "nsigma", "random_at"]

Scaler = Callable[[Array], tuple[float, float]]


def _robust(pre: Array) -> tuple[float, float]:
    q1, median, q3 = np.percentile(pre, [25, 50, 75])
    return float(median), float(q3 - q1)


def _standard(pre: Array) -> tuple[float, float]:
    return float(np.mean(pre)), float(np.std(pre))


def _rank(
    times: Array, metrics: dict[str, dict[str, Array]], onset: float, scaler: Scaler
) -> list[str]:
    scored: list[tuple[float, str]] = []
    before, after = times < onset, times >= onset
    for service, per_metric in metrics.items():
        for values in per_metric.values():
            pre, post = values[before], values[after]
            pre, post = pre[np.isfinite(pre)], post[np.isfinite(post)]
            if pre.size < 2 or post.size < 1:
                continue
            if np.all(pre == pre[0]) or np.all(post == post[0]):
                continue  # RCAEval's preprocessing drops constant columns
            centre, scale = scaler(pre)
            scored.append((float(np.max((post - centre) / (scale or 1.0))), service))
    scored.sort(key=lambda x: -x[0])
    ranked: list[str] = []
    for _, service in scored:
        if service not in ranked:
            ranked.append(service)
    ranked.extend(sorted(s for s in metrics if s not in ranked))
    return ranked


def baro(times: Array, metrics: dict[str, dict[str, Array]], onset: float) -> list[str]:
    return _rank(times, metrics, onset, _robust)


def nsigma(times: Array, metrics: dict[str, dict[str, Array]], onset: float) -> list[str]:
    return _rank(times, metrics, onset, _standard)


def random_at(k: int, services: int) -> float:
    """The expected AC@k of a uniformly random ranking of `services` services."""
    return min(k, services) / services if services else 0.0


BASELINES: dict[str, Callable[[Array, dict[str, dict[str, Array]], float], list[str]]] = {
    "nsigma": nsigma,
    "baro": baro,
}
