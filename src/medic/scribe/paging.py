"""What a page says: the incident in one line, why medic handed it over, and where to look.

Titles and summaries come from the watched system (alert text): they are cut to one
line here, and the vendors show them as plain text.
"""

from __future__ import annotations

from medic.domain import Diagnosis, Incident
from medic.ports.paging import Page

__all__ = ["escalation_page"]

_LINE = 300


def escalation_page(incident: Incident, diagnosis: Diagnosis | None, reason: str, url: str) -> Page:
    where = incident.service or "unknown service"
    if incident.namespace:
        where = f"{where} ({incident.namespace})"
    details = {"incident": incident.id, "why medic handed over": _line(reason)}
    top = diagnosis.top if diagnosis else None
    if diagnosis is not None:
        details["diagnosis"] = _line(diagnosis.summary)
        details["confidence"] = f"{diagnosis.confidence:.2f}"
    if top is not None:
        cause = top.root_cause
        details["likely cause"] = f"{cause.category.value} of {cause.service}" + (
            f" ({cause.change})" if cause.change else ""
        )
    return Page(
        incident_id=incident.id,
        summary=_line(f"medic escalated: {incident.title}"),
        severity=incident.severity,
        source=where,
        url=url,
        details=details,
    )


def _line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _LINE else flat[: _LINE - 1] + "\u2026"
