"""A post-mortem chart: one series as a standalone SVG image, written by hand.

The line of the series, the limit (a dashed red line), and vertical markers at the
onset, at each action and at recovery, with a time axis (UTC) and a value axis in the
series' unit. Every piece of text (metric, service, labels) is XML-escaped: the image
is inlined in the console's HTML, so a label must not be able to open an element.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from medic.domain import Series
from medic.scribe.units import quantity

__all__ = ["Marker", "render_chart"]

_W, _H = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 84, 16, 30, 40
_TICKS = 5
_COLOURS = {"onset": "#d97706", "action": "#2563eb", "recovery": "#16a34a", "undo": "#7c3aed"}


@dataclass(frozen=True)
class Marker:
    """A vertical line at `at` (Unix seconds): kind is onset, action, undo or recovery."""

    at: float
    kind: str
    label: str


def render_chart(
    series: Series,
    title: str,
    markers: Sequence[Marker] = (),
    limit: float | None = None,
) -> str:
    """`series` as an SVG document; an empty series says so in the image."""
    points = [(p.t, p.v) for p in series.points if not math.isnan(p.v)]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" '
        f'width="{_W}" height="{_H}" role="img" aria-label={quoteattr(title)} '
        'font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>'
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
    )
    if not points:
        return head + f'<text x="{_LEFT}" y="{_H // 2}">no data for this series</text></svg>'
    times = [t for t, _ in points] + [m.at for m in markers]
    t0, t1 = min(times), max(times)
    values = [v for _, v in points] + ([limit] if limit is not None else [])
    scale = _byte_scale(values) if series.unit == "bytes" else 1.0
    low, high = _value_range([v / scale for v in values])
    v0, v1 = low * scale, high * scale
    frame = _Frame(t0, t1 if t1 > t0 else t0 + 1, v0, v1)
    parts = [head, _axes(frame, series.unit)]
    if limit is not None:
        y = frame.y(limit)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#dc2626" stroke-dasharray="6 4" stroke-width="1.5"/>'
            f'<text x="{_LEFT + 4}" y="{y - 4:.1f}" fill="#dc2626">'
            f"limit {escape(quantity(limit, series.unit))}</text>"
        )
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{frame.x(t):.1f},{frame.y(v):.1f}"
        for i, (t, v) in enumerate(points)
    )
    parts.append(f'<path d="{path}" fill="none" stroke="#111827" stroke-width="1.8"/>')
    parts += [_marker(frame, m, i) for i, m in enumerate(sorted(markers, key=lambda m: m.at))]
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class _Frame:
    t0: float
    t1: float
    v0: float
    v1: float

    def x(self, t: float) -> float:
        return _LEFT + (t - self.t0) / (self.t1 - self.t0) * (_W - _LEFT - _RIGHT)

    def y(self, v: float) -> float:
        return _H - _BOTTOM - (v - self.v0) / (self.v1 - self.v0) * (_H - _TOP - _BOTTOM)


def _byte_scale(values: Sequence[float]) -> float:
    """The binary multiple (KiB, MiB, GiB, ...) the values are read in, for round ticks."""
    top = max(abs(v) for v in values)
    scale = 1.0
    while top / scale >= 1024 and scale < 1024.0**4:
        scale *= 1024
    return scale


def _value_range(values: Sequence[float]) -> tuple[float, float]:
    """A range from a round number to a round number (ticks at `_TICKS` even steps)."""
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / _TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    while start + step * _TICKS < high:
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10, 20) if m * magnitude > step)
        start = math.floor(low / step) * step
    return start, start + step * _TICKS


def _axes(frame: _Frame, unit: str) -> str:
    bottom, right = _H - _BOTTOM, _W - _RIGHT
    parts = [
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{bottom}" stroke="#6b7280"/>',
        f'<line x1="{_LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#6b7280"/>',
    ]
    for i in range(_TICKS + 1):
        v = frame.v0 + (frame.v1 - frame.v0) * i / _TICKS
        y = frame.y(v)
        parts.append(
            f'<line x1="{_LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(quantity(v, unit))}</text>"
        )
        t = frame.t0 + (frame.t1 - frame.t0) * i / _TICKS
        x = frame.x(t)
        stamp = datetime.fromtimestamp(t, UTC).strftime("%H:%M")
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{stamp}</text>')
    parts.append(
        f'<text x="{right}" y="{_H - 6}" text-anchor="end" fill="#6b7280">time (UTC)</text>'
    )
    return "".join(parts)


def _marker(frame: _Frame, marker: Marker, index: int) -> str:
    x = frame.x(marker.at)
    colour = _COLOURS.get(marker.kind, "#374151")
    # Labels alternate height so that markers close together stay readable.
    y = _TOP + 22 + (index % 3) * 12
    # Near the right edge the label goes to the left of its line, so it stays visible.
    right = x > _W * 0.75
    anchor = ' text-anchor="end"' if right else ""
    tx = x - 3 if right else x + 3
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" y2="{_H - _BOTTOM}" stroke="{colour}" '
        'stroke-width="1.5" stroke-dasharray="2 3"/>'
        f'<text x="{tx:.1f}" y="{y}" fill="{colour}"{anchor}>{escape(marker.label)}</text>'
    )
