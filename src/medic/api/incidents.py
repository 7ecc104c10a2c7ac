"""Incidents: list, show (with the whole timeline), approve and reject the current plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from medic.api.app import ApiContext, context
from medic.api.auth import require_user
from medic.api.schemas import (
    MAX_READ_LIMIT,
    DecisionRequest,
    DecisionResponse,
    IncidentDetail,
    IncidentSummary,
)
from medic.domain import Approval, ApprovalDecision, Incident
from medic.store.codec import encode
from medic.workflows.approvals import decide

__all__ = ["router"]

router = APIRouter(prefix="/incidents", tags=["incidents"])

CHANNELS = frozenset({"api", "cli", "web"})


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
    return IncidentDetail(
        **_summary(incident).model_dump(),
        timeline=[_as_dict(e) for e in store.timeline(incident_id)],
        signals=[_as_dict(s) for s in store.signals_of(incident_id)],
        diagnosis=_as_dict(diagnosis) if diagnosis else None,
        plan=_as_dict(plan) if plan else None,
        plan_hash=plan.hash if plan else None,
        approvals=[_as_dict(a) for a in store.approvals(incident_id)],
        executions=[_as_dict(e) for e in store.executions(incident_id)],
        verification=_as_dict(verification) if verification else None,
        postmortem_path=postmortem.path if postmortem else None,
        url=f"{ctx.base_url}/incidents/{incident_id}",
    )


@router.get("", response_model=list[IncidentSummary])
def list_incidents(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_READ_LIMIT, description="newest first")] = 100,
) -> list[IncidentSummary]:
    """Incidents, newest first."""
    return [_summary(i) for i in context(request).store.list_incidents(limit=limit)]


@router.get("/{incident_id}", response_model=IncidentDetail)
def show_incident(request: Request, incident_id: str) -> IncidentDetail:
    """One incident with its timeline, diagnosis, plan (and hash), decisions and outcome."""
    return _detail(context(request), incident_id)


async def _decide(
    request: Request, incident_id: str, body: DecisionRequest, decision: ApprovalDecision
) -> DecisionResponse:
    ctx = context(request)
    user = require_user(request, ctx.credentials)
    channel = request.headers.get("x-medic-channel", "api").lower()
    approval: Approval = await run_in_threadpool(
        decide,
        incident_id,
        body.plan_hash,
        decision,
        user,
        channel if channel in CHANNELS else "api",
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


@router.post(
    "/{incident_id}/approve",
    response_model=DecisionResponse,
    responses={401: {}, 404: {}, 409: {"description": "stale plan hash or already decided"}},
)
async def approve(request: Request, incident_id: str, body: DecisionRequest) -> DecisionResponse:
    """Approve the incident's current plan, named by its hash."""
    return await _decide(request, incident_id, body, ApprovalDecision.APPROVED)


@router.post(
    "/{incident_id}/reject",
    response_model=DecisionResponse,
    responses={401: {}, 404: {}, 409: {"description": "stale plan hash or already decided"}},
)
async def reject(request: Request, incident_id: str, body: DecisionRequest) -> DecisionResponse:
    """Reject the incident's current plan (a reason is required)."""
    if not body.reason.strip():
        from medic.domain import InvalidInputError

        raise InvalidInputError("a rejection needs a reason")
    return await _decide(request, incident_id, body, ApprovalDecision.REJECTED)
