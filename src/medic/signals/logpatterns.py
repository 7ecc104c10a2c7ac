"""The log patterns that changed at an incident's onset.

Templates come from the shared miner (`analysis.logtemplates.LogPatterns`, drain3) and
the changes at an onset from `analysis.logchanges`; their names are re-exported here for
the senses' callers. Here the strong changes become `NewLogPattern` signals.

Log text is untrusted data from the watched system: templates appear only as data,
fenced, in summaries; they are never interpreted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from medic.analysis.logchanges import LogPatternChange, log_pattern_changes, log_pattern_evidence
from medic.analysis.logtemplates import (
    MASKS,
    LogPatterns,
    Mask,
    Template,
    fence,
    generic_template,
    header_regex,
)
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
