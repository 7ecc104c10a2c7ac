"""The log patterns that changed at an incident's onset.

Templates come from the shared miner (`analysis.logtemplates.LogPatterns`, drain3);
its names are re-exported here for the senses' callers. `log_pattern_changes` is the
incident use: templates of one service that are new since
the onset, or whose rate jumped, become `Evidence` and, above a threshold, `Signal`s.

Log text is untrusted data from the watched system: templates appear only as data,
fenced, in summaries; they are never interpreted.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from medic.analysis.logtemplates import (
    MASKS,
    LogPatterns,
    Mask,
    Template,
    fence,
    generic_template,
    header_regex,
)
from medic.domain.cluster import LogLine
from medic.domain.model import Evidence, Severity, Signal, SignalSource
from medic.ports.telemetry import LogSource

__all__ = [
    "MASKS",
    "NEW_LOG_PATTERN",
    "LogPatternChange",
    "LogPatterns",
    "Mask",
    "Template",
    "fence",
    "generic_template",
    "header_regex",
    "log_pattern_changes",
    "log_pattern_evidence",
    "log_pattern_signals",
    "scan_logs",
]

NEW_LOG_PATTERN = "NewLogPattern"


@dataclass(frozen=True)
class LogPatternChange:
    """One template of one service: its line counts before and since the onset."""

    template: Template
    before: int
    after: int
    ratio: float  # smoothed rate since the onset over the rate before it

    @property
    def new(self) -> bool:
        return self.before == 0


def log_pattern_changes(
    lines: Sequence[LogLine],
    onset: datetime,
    start: datetime,
    end: datetime,
    *,
    min_count: int = 3,
    min_ratio: float = 3.0,
    prior: float = 1.0,
    miner: LogPatterns | None = None,
) -> list[LogPatternChange]:
    """Templates that are new since `onset`, or whose rate jumped, in [start, end].

    A template counts when it has at least `min_count` lines since the onset and its
    rate ratio, (after + prior) / after-seconds over (before + prior) / before-seconds,
    is at least `min_ratio`: the prior keeps a template seen once before from looking
    like a thousandfold jump. Strongest first.
    """
    first = min((line.at for line in lines), default=onset)
    if first >= onset:
        return []  # nothing from before the onset (none read, or cut to the newest): no "new"
    # The source may have cut the window to its newest lines: "before" begins at the
    # first line it returned, not at the start asked for.
    start = max(start, first)
    miner = miner or LogPatterns()
    templates = miner.parse(line.message for line in lines)
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    by_id: dict[str, Template] = {}
    for line, template in zip(lines, templates, strict=True):
        by_id[template.id] = template
        (after if line.at >= onset else before)[template.id] += 1
    before_s = max((onset - start).total_seconds(), 1.0)
    after_s = max((end - onset).total_seconds(), 1.0)
    out = []
    for template_id, count in after.items():
        ratio = ((count + prior) / after_s) / ((before[template_id] + prior) / before_s)
        if count >= min_count and ratio >= min_ratio:
            out.append(LogPatternChange(by_id[template_id], before[template_id], count, ratio))
    return sorted(out, key=lambda c: (-c.ratio, -c.after, c.template.id))


def log_pattern_evidence(namespace: str, service: str, change: LogPatternChange) -> Evidence:
    """The change as citable evidence; the template is untrusted text, fenced."""
    what = "New log pattern" if change.new else "Log pattern rate jumped"
    summary = (
        f"{what} in {service}: {change.after} lines since the onset, {change.before} before "
        f"(rate x{change.ratio:.1f}); template (untrusted log text): {fence(change.template.text)}"
    )
    return Evidence(
        id=f"logs:{service}:{change.template.id}",
        source="logs",
        query=f"log templates of {namespace}/{service} (template {change.template.id})",
        summary=summary,
        data={
            "template_id": change.template.id,
            "template_untrusted": change.template.text[:500],
            "before": change.before,
            "after": change.after,
            "rate_ratio": round(change.ratio, 2),
            "new": change.new,
        },
    )


def log_pattern_signals(
    namespace: str,
    service: str,
    onset: datetime,
    changes: Sequence[LogPatternChange],
    *,
    min_after: int = 5,
    min_ratio: float = 10.0,
) -> list[Signal]:
    """A `NewLogPattern` signal for each change with at least `min_after` lines since the
    onset and a rate ratio of at least `min_ratio` (a new template qualifies on count)."""
    out = []
    for change in changes:
        if change.after < min_after or (not change.new and change.ratio < min_ratio):
            continue
        evidence = log_pattern_evidence(namespace, service, change)
        key = f"logs:{namespace}:{service}:{change.template.id}"
        out.append(
            Signal(
                source=SignalSource.WATCHDOG,
                fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],
                name=NEW_LOG_PATTERN,
                starts_at=onset,
                service=service,
                namespace=namespace,
                severity=Severity.WARNING,
                summary=evidence.summary,
                labels={
                    "detector": NEW_LOG_PATTERN,
                    "service": service,
                    "namespace": namespace,
                    "template_id": change.template.id,
                },
                evidence=(evidence,),
            )
        )
    return out


def scan_logs(
    logs: LogSource,
    namespace: str,
    service: str,
    onset: datetime,
    now: datetime,
    *,
    lookback: timedelta = timedelta(hours=1),
    limit: int = 5000,
) -> tuple[list[Evidence], list[Signal]]:
    """Read a service's lines around `onset` through the LogSource port; return the
    evidence of every changed template and the signals of the strong ones."""
    start = min(onset - lookback, now)
    lines = logs.lines(namespace, service, start, now, limit)
    changes = log_pattern_changes(lines, onset, start, now)
    evidence = [log_pattern_evidence(namespace, service, c) for c in changes]
    return evidence, log_pattern_signals(namespace, service, onset, changes)
