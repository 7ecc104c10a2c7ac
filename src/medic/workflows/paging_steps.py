"""Steps that reach the on-call human: page on escalation, resolve the page at the end.

Paging never stops an incident: a pager that fails is noted on the timeline (and in
the log) and the incident goes on; the vendors dedupe on the incident id, so a step
run again does not page twice.
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID

from medic.domain import MedicError
from medic.log import get_logger
from medic.scribe.paging import escalation_page
from medic.workflows.context import deps
from medic.workflows.step import note, step

__all__ = ["page", "resolve_page", "resolve_page_later", "resolve_page_workflow"]

log = get_logger(__name__)


@step
def page(incident_id: str, reason: str) -> None:
    """Page every configured pager about the escalated incident."""
    d = deps()
    if not d.pagers:
        return
    store = d.store
    incident = store.get_incident(incident_id)
    url = f"{d.base_url}/ui/incidents/{incident_id}"
    sent = escalation_page(incident, store.diagnosis(incident_id), reason, url)
    for pager in d.pagers:
        try:
            pager.trigger(sent)
        except MedicError as e:
            log.warning("page.failed", incident_id=incident_id, pager=pager.name, error=str(e))
            note(incident_id, "page", f"paging {pager.name} failed: {e}", f"page:{pager.name}")
        else:
            note(incident_id, "page", f"paged {pager.name}: {sent.summary}", f"page:{pager.name}")


@step
def resolve_page(incident_id: str, reason: str) -> None:
    """Resolve the incident's page at every configured pager (call when an escalated
    incident ends: its alerts resolved, or a human closed it)."""
    d = deps()
    for pager in d.pagers:
        key = f"page-resolved:{pager.name}"
        try:
            pager.resolve(incident_id, reason)
        except MedicError as e:
            log.warning(
                "page.resolve_failed", incident_id=incident_id, pager=pager.name, error=str(e)
            )
            note(incident_id, "page", f"resolving the {pager.name} page failed: {e}", key)
        else:
            note(incident_id, "page", f"{pager.name} page resolved: {reason}", key)


@DBOS.workflow()
def resolve_page_workflow(incident_id: str, reason: str) -> None:
    resolve_page(incident_id, reason)


def resolve_page_later(incident_id: str, reason: str) -> None:
    """Resolve the incident's page in the background, durably and once per incident
    (the caller, such as webhook ingestion, does not wait for the vendors)."""
    if not deps().pagers:
        return
    with SetWorkflowID(f"page-resolved:{incident_id}"):
        DBOS.start_workflow(resolve_page_workflow, incident_id, reason)
