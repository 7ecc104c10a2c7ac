"""Values with units as an SRE reads them on a Grafana panel, and axis ticks.

Bytes in binary units (MiB, GiB), seconds as ms below one second, ratios as percent;
one scale per axis (chosen from its largest value), so every tick reads in the same unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Scale",
    "clock",
    "format_value",
    "metric_unit",
    "nice_ticks",
    "scale_for",
    "time_ticks",
]

_KIB = 1024.0
_BYTE_SCALES = (("GiB", _KIB**3), ("MiB", _KIB**2), ("KiB", _KIB))
_SHORT_UNITS = {"requests/s": "req/s", "count": "", "": ""}


@dataclass(frozen=True)
class Scale:
    """Divide a raw value by `factor` and append `suffix`."""

    factor: float
    suffix: str

    def label(self, raw: float, decimals: int | None = None) -> str:
        shown = raw / self.factor
        if decimals is None:
            decimals = _decimals(shown)
        text = f"{shown:,.{decimals}f}"
        return f"{text} {self.suffix}".rstrip() if self.suffix != "%" else f"{text}%"


def _decimals(shown: float) -> int:
    size = abs(shown)
    if size == 0 or size >= 100:
        return 0
    if size >= 10:
        return 1
    if size >= 0.1:
        return 2
    return 3


def scale_for(unit: str, magnitude: float) -> Scale:
    """The display scale for values of `unit` up to about `magnitude`."""
    size = abs(magnitude)
    if unit == "bytes":
        for suffix, factor in _BYTE_SCALES:
            if size >= factor:
                return Scale(factor, suffix)
        return Scale(1.0, "B")
    if unit == "seconds":
        return Scale(0.001, "ms") if size < 1.0 else Scale(1.0, "s")
    if unit == "ratio":
        return Scale(0.01, "%")
    return Scale(1.0, _SHORT_UNITS.get(unit, unit))


def format_value(value: float, unit: str) -> str:
    """One value with its unit, e.g. `512 MiB`, `240 ms`, `3.20%`, `120 req/s`."""
    if value != value:  # NaN: a gap, not a number
        return "no data"
    return scale_for(unit, value).label(value)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (in the display unit), about `count` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


_TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def time_ticks(t0: float, t1: float, count: int = 6) -> list[float]:
    """Unix times on round minutes/hours inside [t0, t1], about `count` of them."""
    span = max(t1 - t0, 1.0)
    step = next((s for s in _TIME_STEPS if span / s <= count), _TIME_STEPS[-1])
    first = math.ceil(t0 / step) * step
    return [float(t) for t in range(int(first), int(t1) + 1, step)]


def clock(t: float, seconds: bool = False) -> str:
    """`HH:MM` (or `HH:MM:SS`) in UTC."""
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S" if seconds else "%H:%M")


def metric_unit(metric: str) -> str:
    """The unit a metric's name says it has (`*_bytes`, `*_seconds`, `*_ratio`)."""
    for suffix, unit in (("_bytes", "bytes"), ("_seconds", "seconds"), ("_ratio", "ratio")):
        if metric.endswith(suffix):
            return unit
    return {"cpu_usage_cores": "cores", "request_rate": "requests/s"}.get(metric, "")
