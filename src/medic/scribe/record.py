"""What a post-mortem is written from: the incident's records, gathered once.

`PostmortemRecord` holds only what the store (and, for charts, the metrics source)
said; the renderer adds words, never facts. `time_scale` is how many seconds of the
record's clock pass per wall second: 1 for a real system, the sandbox's speed for the
simulated one, so that durations can be told in wall time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from medic.domain import (
    Approval,
    Diagnosis,
    Execution,
    Incident,
    Plan,
    Series,
    Signal,
    TimelineEntry,
    Verification,
)

__all__ = ["PostmortemRecord", "Slo"]


@dataclass(frozen=True)
class Slo:
    """A service's objectives: `availability` of requests succeed, and (optionally)
    `latency_target` of the time its p99 latency stays under `latency_seconds`, over a
    rolling `window_days`."""

    service: str
    availability: float = 0.999
    latency_seconds: float | None = None
    latency_target: float = 0.99
    window_days: float = 30.0


@dataclass(frozen=True)
class PostmortemRecord:
    incident: Incident
    timeline: tuple[TimelineEntry, ...] = ()
    diagnosis: Diagnosis | None = None
    plan: Plan | None = None
    approvals: tuple[Approval, ...] = ()
    executions: tuple[Execution, ...] = ()
    verification: Verification | None = None
    signals: tuple[Signal, ...] = ()
    # The key series re-read through the end of the incident (recovery included);
    # empty when the metrics source could not be read (the evidence's copies are used).
    series: tuple[Series, ...] = ()
    slos: Mapping[str, Slo] = field(default_factory=dict)
    time_scale: float = 1.0
    console_url: str | None = None
    published: Mapping[str, str] = field(default_factory=dict)  # publisher -> page URL
