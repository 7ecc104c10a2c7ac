"""Incidents: list, show (bounded), page through signals and timeline, approve and reject.

Reading needs a viewer's token, deciding an approver's. One incident's detail stays
small whatever an alert storm attached to it: the first `DETAIL_SIGNALS` signals and a
timeline digest (`Store.pages.timeline_digest`), with counts and the URLs of the pages
(`/incidents/{id}/signals`, `/timeline`) that hold everything, `MAX_PAGE` at a time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from medic.api.app import ApiContext, context
from medic.api.auth import approver, viewer
from medic.api.schemas import (
    DecisionRequest,
    DecisionResponse,
    IncidentDetail,
    IncidentSummary,
    SignalPage,
    TimelinePage,
)
from medic.domain import Approval, ApprovalDecision, Incident
from medic.domain.access import Principal
from medic.store.codec import encode
from medic.workflows.approvals import decide

__all__ = ["DETAIL_SIGNALS", "DETAIL_TIMELINE", "MAX_PAGE", "router"]

router = APIRouter(prefix="/incidents", tags=["incidents"])

DETAIL_SIGNALS = 50  # signals in an incident's detail
DETAIL_SIGNAL_ENTRIES = 50  # "signal" entries in its timeline digest
DETAIL_TIMELINE = 500  # entries in its timeline digest
MAX_PAGE = 1000

Viewer = Annotated[Principal, Depends(viewer)]
Approver = Annotated[Principal, Depends(approver)]
Offset = Annotated[int, Query(ge=0, le=2**31, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items, 1 to {MAX_PAGE}")]
_AUTH: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
_FOUND: dict[int | str, dict[str, object]] = {**_AUTH, 404: {}}


def _summary(incident: Incident) -> IncidentSummary:
    return IncidentSummary(
        id=incident.id,
        title=incident.title,
        state=incident.state.value,
        service=incident.service,
        namespace=incident.namespace,
        severity=incident.severity.value,
        opened_at=incident.opened_at,
        updated_at=incident.updated_at,
    )


def _as_dict(value: object) -> dict[str, object]:
    encoded = encode(value)
    if not isinstance(encoded, dict):
        raise TypeError(f"{type(value).__name__} does not encode as a JSON object")
    return dict(encoded)


def _detail(ctx: ApiContext, incident_id: str) -> IncidentDetail:
    store = ctx.store
    incident = store.get_incident(incident_id)
    diagnosis = store.diagnosis(incident_id)
    plan = store.plan(incident_id)
    verification = store.verification(incident_id)
    postmortem = store.postmortem(incident_id)
    pages = store.pages
    url = f"{ctx.base_url}/incidents/{incident_id}"
    return IncidentDetail(
        **_summary(incident).model_dump(),
        timeline=[
            _as_dict(e)
            for e in pages.timeline_digest(incident_id, DETAIL_SIGNAL_ENTRIES, DETAIL_TIMELINE)
        ],
        timeline_count=pages.timeline_count(incident_id),
        timeline_url=f"{url}/timeline",
        signals=[_as_dict(s) for s in pages.signals(incident_id, 0, DETAIL_SIGNALS)],
        signal_count=pages.signal_count(incident_id),
        signals_url=f"{url}/signals",
        diagnosis=_as_dict(diagnosis) if diagnosis else None,
        plan=_as_dict(plan) if plan else None,
        plan_hash=plan.hash if plan else None,
        approvals=[_as_dict(a) for a in store.approvals(incident_id)],
        executions=[_as_dict(e) for e in store.executions(incident_id)],
        verification=_as_dict(verification) if verification else None,
        postmortem_path=postmortem.path if postmortem else None,
        url=url,
    )


@router.get("", response_model=list[IncidentSummary], responses=_AUTH)
def list_incidents(request: Request, user: Viewer, limit: Limit = 100) -> list[IncidentSummary]:
    """Incidents, newest first."""
    return [_summary(i) for i in context(request).store.list_incidents(limit=limit)]


@router.get("/{incident_id}", response_model=IncidentDetail, responses=_FOUND)
def show_incident(request: Request, user: Viewer, incident_id: str) -> IncidentDetail:
    """One incident with its diagnosis, plan (and hash), decisions and outcome; the first
    signals and a timeline digest, with counts (the rest: `signals_url`, `timeline_url`)."""
    return _detail(context(request), incident_id)


@router.get("/{incident_id}/signals", response_model=SignalPage, responses=_FOUND)
def incident_signals(
    request: Request, user: Viewer, incident_id: str, offset: Offset = 0, limit: Limit = 100
) -> SignalPage:
    """The incident's signals in the order they joined it, a page at a time."""
    store = context(request).store
    store.get_incident(incident_id)  # 404 for an unknown incident
    return SignalPage(
        incident_id=incident_id,
        offset=offset,
        limit=limit,
        total=store.pages.signal_count(incident_id),
        signals=[_as_dict(s) for s in store.pages.signals(incident_id, offset, limit)],
    )


@router.get("/{incident_id}/timeline", response_model=TimelinePage, responses=_FOUND)
def incident_timeline(
    request: Request, user: Viewer, incident_id: str, offset: Offset = 0, limit: Limit = 100
) -> TimelinePage:
    """The incident's whole timeline, oldest first, a page at a time."""
    store = context(request).store
    store.get_incident(incident_id)
    return TimelinePage(
        incident_id=incident_id,
        offset=offset,
        limit=limit,
        total=store.pages.timeline_count(incident_id),
        timeline=[_as_dict(e) for e in store.pages.timeline(incident_id, offset, limit)],
    )


async def _decide(
    incident_id: str, user: Principal, body: DecisionRequest, decision: ApprovalDecision
) -> DecisionResponse:
    # The channel is how the caller authenticated (an API token: api, a CLI token: cli),
    # never what it says it is: no header can make a call count as the web UI's.
    approval: Approval = await run_in_threadpool(
        decide,
        incident_id,
        body.plan_hash,
        decision,
        user.name,
        user.channel.value,
        body.reason,
    )
    return DecisionResponse(
        incident_id=incident_id,
        plan_hash=approval.plan_hash,
        decision=approval.decision.value,
        actor=approval.actor,
        channel=approval.channel,
        at=approval.at,
    )


_DECISION: dict[int | str, dict[str, object]] = {
    **_FOUND,
    409: {"description": "stale plan hash or already decided"},
}


@router.post("/{incident_id}/approve", response_model=DecisionResponse, responses=_DECISION)
async def approve(incident_id: str, body: DecisionRequest, user: Approver) -> DecisionResponse:
    """Approve the incident's current plan, named by its hash (an approver or admin)."""
    return await _decide(incident_id, user, body, ApprovalDecision.APPROVED)


@router.post("/{incident_id}/reject", response_model=DecisionResponse, responses=_DECISION)
async def reject(incident_id: str, body: DecisionRequest, user: Approver) -> DecisionResponse:
    """Reject the incident's current plan (a reason is required; an approver or admin)."""
    if not body.reason.strip():
        from medic.domain import InvalidInputError

        raise InvalidInputError("a rejection needs a reason")
    return await _decide(incident_id, user, body, ApprovalDecision.REJECTED)
