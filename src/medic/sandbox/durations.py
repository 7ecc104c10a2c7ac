"""Durations as scenario files write them: `15s`, `-75m`, `3h`, `1h30m`, `500ms`."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_WHOLE = re.compile(r"^(-)?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: object) -> float:
    """Seconds from a duration string or a plain number of seconds.

    Raises ValueError with a message fit for a scenario author.
    """
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r}: expected e.g. 15s, -75m, 3h")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"bad duration {value!r}: expected e.g. 15s, -75m, 3h")
    text = value.strip().replace(" ", "")
    if text in ("0", "-0"):
        return 0.0
    match = _WHOLE.match(text)
    if match is None:
        raise ValueError(f"bad duration {value!r}: expected e.g. 15s, -75m, 3h")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(match.group(2)))
    return -seconds if match.group(1) else seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling (`-75m`, `3h`, `90s`) for messages."""
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if rest >= size and rest % size == 0:
            return f"{sign}{rest / size:g}{unit}"
    return f"{sign}{rest:g}s"
