"""Counting known patterns in log lines.

Log text is untrusted data from the watched system: it is only matched against
fixed patterns and counted, never interpreted, quoted into summaries or obeyed.
Dependency names are matched only against the names the topology already knows
(a caller's callees), so a log line cannot introduce a new suspect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from medic.domain.cluster import LogLine

__all__ = [
    "DEPENDENCY_PATTERNS",
    "PATTERNS",
    "LogRates",
    "count_patterns",
    "dependency_failures",
    "rates_per_10min",
]

PATTERNS: Mapping[str, re.Pattern[str]] = {
    "gc_pause": re.compile(
        r"\bgc\b.*\bpause|\bpause\b.*\bgc\b|garbage collect|full gc|stop-the-world", re.I
    ),
    "out_of_memory": re.compile(r"out ?of ?memory|oomkill|\boom\b|MemoryError", re.I),
    "connection_refused": re.compile(r"connection refused|econnrefused", re.I),
    "timeout": re.compile(r"timed? ?out|deadline exceeded", re.I),
    "tls": re.compile(r"\btls\b|x509|certificate|handshake", re.I),
    "error": re.compile(r"\b(error|exception|traceback|panic|fatal)\b", re.I),
    "disk_full": re.compile(r"no space left on device|\benospc\b|disk (is )?full", re.I),
    "pool_exhausted": re.compile(
        r"connection is not available|pool (is )?exhausted|waiting for (a )?connection"
        r"|failed to obtain (a )?(jdbc )?connection",
        re.I,
    ),
    "cpu_saturated": re.compile(r"worker pool saturated|cpu throttl", re.I),
    "crash": re.compile(r"\bpanic:|\bfatal\b.*\bexit|exiting with code|crashloop", re.I),
}

# How a failed call to a named dependency reads in a caller's log.
DEPENDENCY_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "refused": re.compile(
        r"connection refused|econnrefused|no route to host|connection reset"
        r"|service unavailable|\b503\b",
        re.I,
    ),
    "tls": re.compile(r"x509|certificate (has )?expired|tls: |handshake fail", re.I),
    "slow": re.compile(r"\bslow call\b|timed? ?out|deadline exceeded|over its usual latency", re.I),
}

_ERROR_LEVELS = frozenset({"error", "fatal", "critical"})
_COUNT = re.compile(r"\((\d{1,7}) failed calls?\)")


@dataclass(frozen=True)
class LogRates:
    lines: int
    minutes: float  # how much time the lines cover
    per_10min: Mapping[str, float]  # pattern -> matching lines per 10 minutes
    # dependency -> failure kind -> failed calls per 10 minutes, from the lines naming it
    dependencies: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def count_patterns(lines: Sequence[LogLine]) -> dict[str, int]:
    counts = dict.fromkeys(PATTERNS, 0)
    for line in lines:
        for name, pattern in PATTERNS.items():
            if (name == "error" and line.level.lower() in _ERROR_LEVELS) or pattern.search(
                line.message
            ):
                counts[name] += 1
    return counts


def dependency_failures(
    lines: Sequence[LogLine], dependencies: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Failed calls per known dependency and kind, from lines that name the dependency.

    A line naming a dependency and matching a failure pattern counts its "(N failed
    calls)" when it says so, else 1. Longer names are tried first so that
    `search-index` is not counted as `search`.
    """
    names = sorted({d for d in dependencies if d}, key=len, reverse=True)
    if not names:
        return {}
    finder = re.compile(
        r"(?<![\w.-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I
    )
    found: dict[str, dict[str, int]] = {}
    for line in lines:
        match = finder.search(line.message)
        if match is None:
            continue
        kind = next((k for k, p in DEPENDENCY_PATTERNS.items() if p.search(line.message)), None)
        if kind is None:
            continue
        count = _COUNT.search(line.message)
        per = found.setdefault(match.group(1).lower(), {})
        per[kind] = per.get(kind, 0) + (int(count.group(1)) if count else 1)
    return found


def rates_per_10min(
    lines: Sequence[LogLine],
    start: datetime,
    end: datetime,
    truncated: bool,
    dependencies: Iterable[str] = (),
) -> LogRates:
    """Pattern rates over [start, end]; a truncated sample only covers its own span."""
    if truncated and len(lines) >= 2:
        start, end = lines[0].at, lines[-1].at
    minutes = max((end - start).total_seconds() / 60.0, 1.0)
    counts = count_patterns(lines)
    deps = dependency_failures(lines, dependencies)
    return LogRates(
        lines=len(lines),
        minutes=minutes,
        per_10min={k: round(c * 10.0 / minutes, 1) for k, c in counts.items()},
        dependencies={
            dep: {k: round(c * 10.0 / minutes, 1) for k, c in kinds.items()}
            for dep, kinds in deps.items()
        },
    )
