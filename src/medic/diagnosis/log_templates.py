"""The log templates (drain3) that changed at the onset, as evidence for a human.

For the blamed service and the incident's own: the templates new since the onset, or
whose rate jumped, so that a human sees what the logs started saying. They are
evidence, not a verdict: the hypotheses stay as the diagnosis ranked them. A log
source that fails is written down in `missing`, never fatal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from medic.analysis.logchanges import log_pattern_changes, log_pattern_evidence
from medic.domain import Diagnosis, Evidence, MedicError
from medic.ports.telemetry import LogSource

__all__ = ["with_log_patterns"]

# Changed log templates kept as evidence per service, strongest first.
_MAX_PATTERNS = 5
_LOOKBACK = timedelta(hours=1)
_LIMIT = 5000


def with_log_patterns(
    diagnosis: Diagnosis,
    logs: LogSource | None,
    namespace: str,
    service: str | None,
    now: datetime,
) -> Diagnosis:
    """`diagnosis` with the changed log templates of its top cause and of `service`."""
    if logs is None or diagnosis.onset is None:
        return diagnosis
    onset = diagnosis.onset
    top = diagnosis.top
    services = dict.fromkeys(s for s in (top.root_cause.service if top else None, service) if s)
    found: list[Evidence] = []
    missing: list[str] = []
    start = min(onset - _LOOKBACK, now)
    for name in services:
        try:
            lines = logs.lines(namespace, name, start, now, _LIMIT)
        except MedicError as e:
            missing.append(f"no log patterns of {name}: {e}")
            continue
        changes = log_pattern_changes(lines, onset, start, now)
        found.extend(log_pattern_evidence(namespace, name, c) for c in changes[:_MAX_PATTERNS])
    if not found and not missing:
        return diagnosis
    return replace(
        diagnosis,
        evidence=diagnosis.evidence + tuple(found),
        missing=diagnosis.missing + tuple(missing),
    )
