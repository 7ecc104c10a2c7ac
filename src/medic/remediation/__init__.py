"""Layer 2, the architect: turns a diagnosis into a typed plan.

Owns the typed action catalog (risk, the exact `kubectl` command a human would type,
undo, default verification criteria) and plan building: an immediate plan and a
long-term plan (a revert pull request), both confined to the incident's scope.

Must not: execute anything or import `medic.action`. Commands it renders are for
humans to read; the executor acts on the typed action, never on the string.
"""

from medic.remediation.architect import DEFAULT_MIN_CONFIDENCE, baseline_from_evidence, plan
from medic.remediation.catalog import (
    CATALOG,
    ActionSpec,
    make_action,
    recovery_criterion,
    render_command,
    render_note,
    risk_of,
    undo_of,
)

__all__ = [
    "CATALOG",
    "DEFAULT_MIN_CONFIDENCE",
    "ActionSpec",
    "baseline_from_evidence",
    "make_action",
    "plan",
    "recovery_criterion",
    "render_command",
    "render_note",
    "risk_of",
    "undo_of",
]
