"""Inline SVG line charts of evidence series, with the anomaly window shaded.

Server-rendered, no JavaScript: a chart is a polyline of at most `MAX_POINTS` points
(bucketed min/max, so spikes survive), its value range, start and end times, an optional
threshold line (a verification criterion) and a shaded band from the onset to the end
of the series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from medic.domain import Series
from medic.web.html import Markup, esc

__all__ = ["MAX_POINTS", "format_value", "series_chart"]

MAX_POINTS = 320
_W, _H = 640.0, 190.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 64.0, 10.0, 12.0, 26.0


def format_value(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 1e6:,.0f} MB" if abs(value) >= 1e6 else f"{value:,.0f} B"
    if unit == "seconds":
        return f"{value * 1000:,.0f} ms" if abs(value) < 10 else f"{value:,.1f} s"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    text = f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}".strip() if unit and unit != "count" else text


def _bucketed(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return list(points)
    size = len(points) / (MAX_POINTS / 2)
    out: list[tuple[float, float]] = []
    start = 0.0
    while int(start) < len(points):
        bucket = points[int(start) : max(int(start + size), int(start) + 1)]
        low = min(bucket, key=lambda p: p[1])
        high = max(bucket, key=lambda p: p[1])
        out.extend(sorted({low, high}))
        start += size
    return out


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def series_chart(
    series: Series,
    onset: datetime | None,
    threshold: float | None = None,
    caption: str = "",
) -> Markup:
    """One chart; an empty series renders as a note, never as a broken figure."""
    points = [(p.t, p.v) for p in series.points]
    title = f"{series.service} · {series.metric}"
    if len(points) < 2:
        return Markup(f"<figure><figcaption><b>{esc(title)}</b> · no data</figcaption></figure>")
    points.sort()
    t0, t1 = points[0][0], points[-1][0]
    values = [v for _, v in points] + ([threshold] if threshold is not None else [])
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.06
    lo, hi = lo - pad, hi + pad
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + (t - t0) / (t1 - t0 or 1.0) * plot_w

    def y(v: float) -> float:
        return _TOP + (hi - v) / (hi - lo) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" '
        f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#fbfcfe" '
        'stroke="#dde2ea"/>',
    ]
    if onset is not None and onset.timestamp() < t1:
        start = x(max(onset.timestamp(), t0))
        parts.append(
            f'<rect class="anomaly" x="{start:.1f}" y="{_TOP}" '
            f'width="{_LEFT + plot_w - start:.1f}" height="{plot_h}" '
            'fill="#e5484d" fill-opacity="0.12">'
            f"<title>anomaly window: since {esc(_clock(onset.timestamp()))} UTC</title></rect>"
            f'<line x1="{start:.1f}" x2="{start:.1f}" y1="{_TOP}" y2="{_TOP + plot_h}" '
            'stroke="#e5484d" stroke-width="1.2" stroke-dasharray="4 3"/>'
            f'<text x="{start + 4:.1f}" y="{_TOP + 12}" font-size="11" fill="#a4262c">'
            f"onset {esc(_clock(onset.timestamp()))}</text>"
        )
    if threshold is not None:
        ty = y(threshold)
        parts.append(
            f'<line class="threshold" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}" stroke="#1d7a46" stroke-dasharray="6 4"/>'
            f'<text x="{_LEFT + plot_w - 4}" y="{ty - 4:.1f}" font-size="10" fill="#1d7a46" '
            f'text-anchor="end">recovery ≤ {esc(format_value(threshold, series.unit))}</text>'
        )
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in _bucketed(points))
    parts.append(
        f'<polyline class="series" fill="none" stroke="#2357c6" stroke-width="1.5" '
        f'points="{line}"/>'
    )
    label = 'font-size="11" fill="#5d6675"'
    parts.append(
        f'<text x="{_LEFT - 6}" y="{_TOP + 10}" {label} text-anchor="end">'
        f"{esc(format_value(hi, series.unit))}</text>"
        f'<text x="{_LEFT - 6}" y="{_TOP + plot_h}" {label} text-anchor="end">'
        f"{esc(format_value(lo, series.unit))}</text>"
        f'<text x="{_LEFT}" y="{_H - 8}" {label}>{esc(_clock(t0))}</text>'
        f'<text x="{_LEFT + plot_w}" y="{_H - 8}" {label} text-anchor="end">'
        f"{esc(_clock(t1))} UTC</text></svg>"
    )
    note = f" · {esc(caption)}" if caption else ""
    return Markup(
        f"<figure><figcaption><b>{esc(title)}</b>{note}</figcaption>{''.join(parts)}</figure>"
    )
