"""Log lines as series: how often each of a service's templates was logged, over time.

Lines are mined into templates (`logtemplates.LogPatterns`, drain3); per service, the
templates logged most are counted over a trailing window at each instant of a case's
time axis, one series per template (`log_template_<id>`). The ranking scores them like
any other series of kind `logs`: a template that is new since the onset (counted from
nothing), or whose rate jumped, is evidence of trouble in the service that logs it,
decided together with the metrics, not appended after them. A template logged in less
than half of the fault window moves its median level by nothing, so a line or two
cannot decide. Log text is untrusted: only its template id and counts are used.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from medic.analysis.logtemplates import LogPatterns
from medic.analysis.stats import Array

__all__ = ["LOG_SERIES_PREFIX", "log_series"]

LOG_SERIES_PREFIX = "log_template_"
# Per service, at most this many templates (the most logged) become series.
_MAX_TEMPLATES = 20


def log_series(
    records: Sequence[tuple[float, str, str]], times: Array, window_s: float | None = None
) -> dict[str, dict[str, Array]]:
    """(time, service, message) records -> per service, per template, the number of
    lines in the trailing `window_s` (default: four steps of the axis) at each time."""
    if not records or times.size < 2:
        return {}
    step = float(np.median(np.diff(times)))
    window = window_s if window_s is not None else 4 * step
    miner = LogPatterns()
    ordered = sorted(records, key=lambda r: r[0])
    templates = miner.parse(message for _, _, message in ordered)
    stamps: dict[tuple[str, str], list[float]] = defaultdict(list)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (when, service, _), template in zip(ordered, templates, strict=True):
        stamps[(service, template.id)].append(when)
        counts[service][template.id] += 1
    out: dict[str, dict[str, Array]] = {}
    for service, counter in counts.items():
        for template_id, _ in counter.most_common(_MAX_TEMPLATES):
            at = np.asarray(stamps[(service, template_id)])
            lo = np.searchsorted(at, times - window, side="right")
            hi = np.searchsorted(at, times, side="right")
            series = (hi - lo).astype(np.float64)
            out.setdefault(service, {})[f"{LOG_SERIES_PREFIX}{template_id}"] = series
    return out
