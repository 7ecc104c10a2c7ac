"""Inline SVG charts of evidence series, readable like a Grafana panel.

A chart has a value axis with round ticks in the series' unit (MiB, ms, %), a time axis
in UTC, the anomaly window shaded from the onset, the limit (e.g. the memory limit) and
the recovery bound the plan verifies as lines, and vertical markers for deploys, the
approval, the action and the verification. The points are also carried as data for
the console's script, which shows the value under the pointer (or the arrow keys):
without the script the chart still reads, only the hover is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from medic.domain import Series
from medic.web.html import Markup, esc
from medic.web.units import clock, format_value, nice_ticks, scale_for, time_ticks

__all__ = ["MAX_POINTS", "Marker", "format_value", "series_chart"]

MAX_POINTS = 320
_W, _H = 720.0, 250.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 76.0, 16.0, 26.0, 30.0
_MARKER_COLOURS = {
    "deploy": "#7a3db8",
    "approval": "#8a5a00",
    "action": "#1d2330",
    "recovered": "#1d7a46",
    "failed": "#a4262c",
}


@dataclass(frozen=True)
class Marker:
    """A moment worth a vertical line: a deploy, the approval, the action, the verdict."""

    at: float  # Unix seconds
    label: str
    kind: str  # a key of _MARKER_COLOURS


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


@dataclass(frozen=True)
class _Frame:
    """Maps (time, value) to the SVG's coordinates."""

    t0: float
    t1: float
    lo: float
    hi: float

    @property
    def plot_w(self) -> float:
        return _W - _LEFT - _RIGHT

    @property
    def plot_h(self) -> float:
        return _H - _TOP - _BOTTOM

    def x(self, t: float) -> float:
        return _LEFT + (t - self.t0) / (self.t1 - self.t0 or 1.0) * self.plot_w

    def y(self, v: float) -> float:
        return _TOP + (self.hi - v) / (self.hi - self.lo) * self.plot_h


def _frame(points: Sequence[tuple[float, float]], extra: Sequence[float]) -> _Frame:
    values = [v for _, v in points if v == v] + list(extra)
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - (abs(lo) * 0.1 or 1.0), hi + (abs(hi) * 0.1 or 1.0)
    pad = (hi - lo) * 0.08
    floor = 0.0 if lo >= 0 else lo - pad
    return _Frame(points[0][0], points[-1][0], max(floor, lo - pad), hi + pad)


def _value_axis(f: _Frame, unit: str) -> str:
    scale = scale_for(unit, max(abs(f.lo), abs(f.hi)))
    ticks = nice_ticks(f.lo / scale.factor, f.hi / scale.factor)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    # as many decimals as the step needs: 0.25 GiB steps read 0.25, 0.50, 0.75
    decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 3)
    out = []
    for tick in ticks:
        raw = tick * scale.factor
        if not f.lo <= raw <= f.hi:
            continue
        ty = f.y(raw)
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + f.plot_w}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}" stroke="#e6e9ef"/>'
            f'<text class="ytick" x="{_LEFT - 6}" y="{ty + 4:.1f}" font-size="12" '
            f'fill="#5d6675" text-anchor="end">{esc(scale.label(raw, decimals))}</text>'
        )
    return "".join(out)


def _time_axis(f: _Frame) -> str:
    out = []
    base = _TOP + f.plot_h
    for t in time_ticks(f.t0, f.t1):
        tx = f.x(t)
        out.append(
            f'<line class="grid" x1="{tx:.1f}" x2="{tx:.1f}" y1="{_TOP}" y2="{base}" '
            'stroke="#eef0f4"/>'
            f'<text class="xtick" x="{tx:.1f}" y="{base + 15}" font-size="12" fill="#5d6675" '
            f'text-anchor="middle">{esc(clock(t))}</text>'
        )
    out.append(
        f'<text x="{_LEFT + f.plot_w}" y="{_H - 2}" font-size="10" fill="#5d6675" '
        'text-anchor="end">time (UTC)</text>'
    )
    return "".join(out)


def _onset(f: _Frame, onset: datetime | None, until: float | None) -> str:
    if onset is None or onset.timestamp() >= f.t1:
        return ""
    start = f.x(max(onset.timestamp(), f.t0))
    end = f.x(min(until, f.t1)) if until is not None else _LEFT + f.plot_w
    return (
        f'<rect class="anomaly" x="{start:.1f}" y="{_TOP}" width="{max(end - start, 0):.1f}" '
        f'height="{f.plot_h}" fill="#e5484d" fill-opacity="0.10">'
        f"<title>anomaly window: since {esc(clock(onset.timestamp()))} UTC</title></rect>"
        f'<line x1="{start:.1f}" x2="{start:.1f}" y1="{_TOP}" y2="{_TOP + f.plot_h}" '
        'stroke="#e5484d" stroke-width="1.2" stroke-dasharray="4 3"/>'
        f'<text x="{start + 4:.1f}" y="{_TOP + f.plot_h - 6}" font-size="12" fill="#a4262c">'
        f"onset {esc(clock(onset.timestamp()))}</text>"
    )


def _level(f: _Frame, value: float, unit: str, cls: str, text: str, colour: str) -> str:
    ly = f.y(value)
    dash = ' stroke-dasharray="6 4"' if cls == "threshold" else ""
    # The limit is labelled at the left (the moments crowd the right), below its line.
    x, anchor, dy = (
        (_LEFT + 4, "start", 14) if cls == "limit" else (_LEFT + f.plot_w - 4, "end", -4)
    )
    return (
        f'<line class="{cls}" x1="{_LEFT}" x2="{_LEFT + f.plot_w}" y1="{ly:.1f}" y2="{ly:.1f}" '
        f'stroke="{colour}" stroke-width="1.4"{dash}/>'
        f'<text x="{x}" y="{ly + dy:.1f}" font-size="12" fill="{colour}" '
        f'text-anchor="{anchor}">{esc(text)} {esc(format_value(value, unit))}</text>'
    )


def _markers(f: _Frame, markers: Sequence[Marker]) -> str:
    """Lines for each moment; a label on top where it does not collide with the last
    one (all of them are in the legend below the chart anyway)."""
    out = []
    taken = -1e9
    for m in sorted(markers, key=lambda m: m.at):
        if not f.t0 <= m.at <= f.t1:
            continue
        mx = f.x(m.at)
        colour = _MARKER_COLOURS.get(m.kind, "#35507a")
        label = ""
        width = len(m.label) * 6.6
        anchor = "end" if mx + width > _LEFT + f.plot_w else "start"
        left = mx - width if anchor == "end" else mx
        if left > taken + 6:
            taken = left + width
            dx = -3 if anchor == "end" else 3
            label = (
                f'<text x="{mx + dx:.1f}" y="{_TOP - 7}" font-size="12" fill="{colour}" '
                f'text-anchor="{anchor}">{esc(m.label)}</text>'
            )
        out.append(
            f'<g class="marker {esc(m.kind)}"><line x1="{mx:.1f}" x2="{mx:.1f}" y1="{_TOP}" '
            f'y2="{_TOP + f.plot_h}" stroke="{colour}" stroke-width="1.4"/>{label}'
            f"<title>{esc(m.label)} at {esc(clock(m.at, seconds=True))} UTC</title></g>"
        )
    return "".join(out)


def _legend(f: _Frame, markers: Sequence[Marker]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{_MARKER_COLOURS.get(m.kind, "#35507a")}">'
        f"</span>{esc(clock(m.at))} {esc(m.label)}</li>"
        for m in sorted(markers, key=lambda m: m.at)
        if f.t0 <= m.at <= f.t1
    )
    return f'<ul class="legend">{items}</ul>' if items else ""


def _hover_data(f: _Frame, points: Sequence[tuple[float, float]], unit: str) -> str:
    data = [
        [round(f.x(t), 1), round(f.y(v), 1), clock(t, seconds=True), format_value(v, unit)]
        for t, v in points
        if v == v
    ]
    return json.dumps(data, separators=(",", ":"))


def series_chart(
    series: Series,
    onset: datetime | None,
    threshold: float | None = None,
    caption: str = "",
    limit: float | None = None,
    markers: Sequence[Marker] = (),
) -> Markup:
    """One chart; an empty series renders as a note, never as a broken figure."""
    points = sorted((p.t, p.v) for p in series.points)
    title = f"{series.service} · {series.metric}"
    note = f" · {esc(caption)}" if caption else ""
    if len([p for p in points if p[1] == p[1]]) < 2:
        return Markup(
            f"<figure><figcaption><b>{esc(title)}</b>{note} · no data</figcaption></figure>"
        )
    levels = [v for v in (threshold, limit) if v is not None]
    f = _frame(points, levels)
    recovered = next((m.at for m in markers if m.kind == "recovered"), None)
    shown = _bucketed(points)
    line = " ".join(f"{f.x(t):.1f},{f.y(v):.1f}" for t, v in shown if v == v)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" '
        f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{f.plot_w}" height="{f.plot_h}" fill="#fbfcfe" '
        'stroke="#dde2ea"/>',
        _value_axis(f, series.unit),
        _time_axis(f),
        _onset(f, onset, recovered),
        _level(f, limit, series.unit, "limit", "limit", "#a4262c") if limit is not None else "",
        _level(f, threshold, series.unit, "threshold", "recovery ≤", "#1d7a46")
        if threshold is not None
        else "",
        f'<polyline class="series" fill="none" stroke="#2357c6" stroke-width="1.6" '
        f'points="{line}"/>',
        _markers(f, markers),
        f'<g class="cursor" visibility="hidden"><line y1="{_TOP}" y2="{_TOP + f.plot_h}" '
        'stroke="#5d6675" stroke-dasharray="2 2"/><circle r="4" fill="#2357c6" '
        'stroke="#fff"/></g>',
        "</svg>",
    ]
    latest = next((v for _, v in reversed(points) if v == v), None)
    now = f" · latest {esc(format_value(latest, series.unit))}" if latest is not None else ""
    data = esc(_hover_data(f, shown, series.unit))
    return Markup(
        f'<figure class="panel" tabindex="0" data-points="{data}"'
        f' aria-label="{esc(title)}: hover or use the arrow keys to read values">'
        f"<figcaption><b>{esc(title)}</b>{note}{now}</figcaption>{''.join(parts)}"
        f'{_legend(f, markers)}<output class="tip" aria-live="polite"></output></figure>'
    )
