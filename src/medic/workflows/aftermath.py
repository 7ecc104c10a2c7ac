"""After an incident's workflow ended: an escalated incident whose alerts resolve is
closed, and any change to an ended incident rewrites its post-mortem.

Each is a small durable workflow with an id derived from the change (the incident id
and how many signals it has), so a redelivered alert does not rewrite it twice and a
crash mid-way resumes.
"""

from __future__ import annotations

from collections.abc import Sequence

from dbos import DBOS, SetWorkflowID

from medic.domain import IncidentState
from medic.log import get_logger
from medic.signals.grouping import all_resolved
from medic.workflows import action_steps
from medic.workflows.context import deps

__all__ = ["CLOSED_REASON", "aftermath_workflow", "after_change"]

log = get_logger(__name__)

CLOSED_REASON = "every alert resolved after the escalation"


@DBOS.workflow()
def aftermath_workflow(incident_id: str, close: bool) -> str:
    """Close the escalated incident (when `close`), then rewrite its post-mortem."""
    if close:
        action_steps.finish(incident_id, IncidentState.CLOSED, CLOSED_REASON, "closed-after")
    return action_steps.document(incident_id)


def after_change(incident_ids: Sequence[str]) -> list[str]:
    """For each ended incident among `incident_ids` (signals just joined them): close it
    if it was escalated and its alerts have all resolved; rewrite its post-mortem.
    Returns the ids whose aftermath was started."""
    store = deps().store
    started = []
    for incident_id in sorted(set(incident_ids)):
        incident = store.get_incident(incident_id)
        if not incident.state.terminal or store.postmortem(incident_id) is None:
            continue  # still running: its workflow writes the post-mortem when it ends
        signals = store.signals_of(incident_id)
        close = incident.state is IncidentState.ESCALATED and all_resolved(signals)
        with SetWorkflowID(f"{incident_id}:aftermath:{len(signals)}"):
            DBOS.start_workflow(aftermath_workflow, incident_id, close)
        log.info("incident.aftermath", incident_id=incident_id, close=close)
        started.append(incident_id)
    return started
