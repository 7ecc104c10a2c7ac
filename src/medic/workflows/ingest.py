"""Signals in, incidents out: store durably, group, and start one workflow per incident."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dbos import DBOS, SetWorkflowID

from medic.domain import Incident, IncidentState, Signal, TimelineEntry
from medic.log import get_logger
from medic.signals.grouping import group_key, incident_title
from medic.store import Store
from medic.workflows.context import deps

__all__ = [
    "IngestResult",
    "ingest",
    "new_incident_id",
    "resume_orphans",
    "start_incident_workflow",
]

log = get_logger(__name__)

# A group that closed this recently absorbs new signals instead of reopening: a resolved
# leak still shows its old climb in the watchdog's look-back window for a while.
REOPEN_COOLDOWN = timedelta(minutes=30)


@dataclass(frozen=True)
class IngestResult:
    signal_id: str
    created: bool
    incident_id: str | None
    new_incident: bool


def new_incident_id(now: datetime) -> str:
    return f"inc-{now:%Y%m%d}-{secrets.token_hex(3)}"


def ingest(signals: Sequence[Signal], raw: str | None, now: datetime) -> list[IngestResult]:
    """Store each signal (durably, deduplicated) and attach it to an incident.

    A redelivered signal changes nothing. A firing signal whose group has no open
    incident opens one; resolved signals only join the record. The caller starts the
    workflows of new incidents (`start_incident_workflow`), after this returns.
    """
    store = deps().store
    results = []
    for signal in signals:
        signal_id, created = store.record_signal(signal, raw)
        if not created:
            results.append(
                IngestResult(signal_id, False, store.incident_of_signal(signal_id), False)
            )
            continue
        incident, is_new = _incident_for(store, signal, now)
        if incident is not None:
            store.attach_signal(incident.id, signal_id)
            store.add_timeline(
                incident.id,
                TimelineEntry(
                    at=now,
                    kind="signal",
                    message=f"{signal.source} {'firing' if signal.firing else 'resolved'}: "
                    f"{signal.name}",
                    actor=str(signal.source),
                    data={"signal_id": signal_id, "service": signal.service},
                ),
                key=f"signal:{signal_id}",
            )
        results.append(IngestResult(signal_id, True, incident.id if incident else None, is_new))
    return results


def _incident_for(store: Store, signal: Signal, now: datetime) -> tuple[Incident | None, bool]:
    key = group_key(signal)
    open_incident = store.open_incident_for(key)
    if open_incident is not None:
        return open_incident, False
    recent = _recently_closed(store, key, now)
    if recent is not None or not signal.firing:
        return recent, False
    incident = store.create_incident(
        Incident(
            id=new_incident_id(now),
            title=incident_title(signal),
            state=IncidentState.OPEN,
            opened_at=now,
            updated_at=now,
            group_key=key,
            service=signal.service,
            namespace=signal.namespace or deps().namespace,
            severity=signal.severity,
        )
    )
    store.add_timeline(
        incident.id,
        TimelineEntry(at=now, kind="incident", message=f"incident opened: {incident.title}"),
        key="opened",
    )
    log.info("incident.opened", incident_id=incident.id, group_key=key)
    return incident, True


def _recently_closed(store: Store, key: str, now: datetime) -> Incident | None:
    for incident in store.list_incidents(limit=50):
        if (
            incident.group_key == key
            and incident.state.terminal
            and now - incident.updated_at < REOPEN_COOLDOWN
        ):
            return incident
    return None


def start_incident_workflow(incident_id: str) -> None:
    """Start (or find already started) the incident's workflow; its id is the incident id."""
    from medic.workflows.incident import incident_workflow

    with SetWorkflowID(incident_id):
        DBOS.start_workflow(incident_workflow, incident_id)


def resume_orphans() -> int:
    """Start the workflow of any incident that was opened but whose start was lost."""
    started = 0
    for incident in deps().store.incidents_in([IncidentState.OPEN]):
        start_incident_workflow(incident.id)
        started += 1
    return started
