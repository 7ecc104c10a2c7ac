"""Counting known patterns in log lines.

Log text is untrusted data from the watched system: it is only matched against
fixed patterns and counted, never interpreted, quoted into summaries or obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from medic.domain.cluster import LogLine

__all__ = ["PATTERNS", "LogRates", "count_patterns", "rates_per_10min"]

PATTERNS: Mapping[str, re.Pattern[str]] = {
    "gc_pause": re.compile(
        r"\bgc\b.*\bpause|\bpause\b.*\bgc\b|garbage collect|full gc|stop-the-world", re.I
    ),
    "out_of_memory": re.compile(r"out ?of ?memory|oomkill|\boom\b|MemoryError", re.I),
    "connection_refused": re.compile(r"connection refused|econnrefused", re.I),
    "timeout": re.compile(r"timed? ?out|deadline exceeded", re.I),
    "tls": re.compile(r"\btls\b|x509|certificate|handshake", re.I),
    "error": re.compile(r"\b(error|exception|traceback|panic|fatal)\b", re.I),
}

_ERROR_LEVELS = frozenset({"error", "fatal", "critical"})


@dataclass(frozen=True)
class LogRates:
    lines: int
    minutes: float  # how much time the lines cover
    per_10min: Mapping[str, float]  # pattern -> matching lines per 10 minutes


def count_patterns(lines: Sequence[LogLine]) -> dict[str, int]:
    counts = dict.fromkeys(PATTERNS, 0)
    for line in lines:
        for name, pattern in PATTERNS.items():
            if (name == "error" and line.level.lower() in _ERROR_LEVELS) or pattern.search(
                line.message
            ):
                counts[name] += 1
    return counts


def rates_per_10min(
    lines: Sequence[LogLine], start: datetime, end: datetime, truncated: bool
) -> LogRates:
    """Pattern rates over [start, end]; a truncated sample only covers its own span."""
    if truncated and len(lines) >= 2:
        start, end = lines[0].at, lines[-1].at
    minutes = max((end - start).total_seconds() / 60.0, 1.0)
    counts = count_patterns(lines)
    return LogRates(
        lines=len(lines),
        minutes=minutes,
        per_10min={k: round(c * 10.0 / minutes, 1) for k, c in counts.items()},
    )
