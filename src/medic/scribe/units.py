"""Numbers as people read them: bytes in MiB/GiB, seconds in ms/s/min, ratios in %.

A value is formatted by the unit of the series it came from (the units medic's
metrics carry: bytes, seconds, ratio, cores, requests/s, count, replicas); an unknown
unit gets a plain number with at most four significant digits, never an exponent.
"""

from __future__ import annotations

import math
import re

__all__ = ["duration", "humanize", "quantity"]

_BINARY = (("TiB", 1024.0**4), ("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0))


def quantity(value: float | int | None, unit: str = "") -> str:
    """`value` with its unit, e.g. 314_940_000 bytes -> "300.4 MiB", 0.0315 ratio -> "3.15%"."""
    if value is None:
        return "no data"
    number = float(value)
    if math.isnan(number):
        return "no data"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    unit = unit.strip().lower()
    if unit in ("bytes", "byte", "b"):
        return _bytes(number)
    if unit in ("seconds", "second", "s"):
        return duration(number, exact=True)
    if unit in ("ratio", "fraction"):
        return _percent(number)
    if unit in ("percent", "%"):
        return f"{_number(number)}%"
    suffix = {"count": "", "": ""}.get(unit, f" {unit}")
    return f"{_number(number)}{suffix}"


def duration(seconds: float, *, exact: bool = False) -> str:
    """A span of time: "420 ms", "12.5 s", "4m 05s", "2h 10m", "3d 4h".

    `exact` keeps sub-second precision (a latency); otherwise whole seconds (a span).
    """
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if exact and s < 1:
        return f"{sign}{_number(s * 1000)} ms"
    if exact and s < 60:
        return f"{sign}{_number(s)} s"
    whole = round(s)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs} s"


# A machine-formatted number, and the unit word that may follow it (replaced too).
_UNIT_WORD = r"(?:\s?(?:bytes|B|seconds|s)\b)?"
# Not inside a name or a path (`inc-20261202-9c4a12.md` keeps its digits).
_SCIENTIFIC = re.compile(r"(?<![\w./-])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w./-])" + _UNIT_WORD)
_LONG = re.compile(r"(?<![\w./-])-?\d{7,}(?:\.\d+)?(?![\w./-])" + _UNIT_WORD)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_HINTS = (
    ("bytes", "bytes"),
    ("memory", "bytes"),
    ("seconds", "seconds"),
    ("latency", "seconds"),
    ("ratio", "ratio"),
)


def humanize(message: str, unit: str = "") -> str:
    """`message` (medic's own or a tool's text) with its machine-formatted numbers
    (`3.1494e+08`, `314940000`) given units: `unit`, or the one a metric name in the
    message implies (`memory_working_set_bytes 3.1494e+08` -> `300.4 MiB`)."""
    if not unit:
        lowered = message.lower()
        unit = next((u for word, u in _HINTS if word in lowered), "")

    def one(match: re.Match[str]) -> str:
        found = _NUMBER.match(match.group(0))
        return quantity(float(found.group(0)), unit) if found else match.group(0)

    return _LONG.sub(one, _SCIENTIFIC.sub(one, message))


def _bytes(number: float) -> str:
    size = abs(number)
    for name, factor in _BINARY:
        if size >= factor:
            return f"{_number(number / factor)} {name}"
    return f"{_number(number)} B"


def _percent(ratio: float) -> str:
    pct = ratio * 100
    if pct != 0 and abs(pct) < 0.01:
        return f"{pct:.4f}%".rstrip("0")
    return f"{_number(pct)}%"


def _number(number: float) -> str:
    """Four significant digits at most, thousands grouped, never an exponent."""
    if number == 0:
        return "0"
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    decimals = max(0, 3 - math.floor(math.log10(magnitude)))
    text = f"{number:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
