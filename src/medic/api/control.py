"""The kill switch and the audit log over HTTP: `/control`, `/control/pause|resume`, `/audit`.

Authenticated users only (a user's bearer token). Pausing is stored in the database,
so it stops every `medic serve` process sharing it; each flip is an audit entry.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from medic.api.app import context
from medic.api.auth import require_user
from medic.domain.audit import AuditEntry
from medic.store.control import PauseState

__all__ = ["AuditEntryOut", "ControlOut", "PauseRequest", "router"]

router = APIRouter(tags=["control"])

MAX_REASON = 500


class PauseRequest(BaseModel):
    reason: str = Field("", max_length=MAX_REASON, description="why (recorded in the audit)")


class ControlOut(BaseModel):
    paused: bool = Field(description="while true, medic executes nothing anywhere")
    actor: str = ""
    reason: str = ""
    at: datetime | None = None


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    kind: str
    incident_id: str | None
    plan_hash: str | None
    outcome: str
    data: dict[str, str | int | float | bool | None]
    prev_hash: str
    hash: str


def _out(state: PauseState) -> ControlOut:
    return ControlOut(paused=state.paused, actor=state.actor, reason=state.reason, at=state.at)


def _entry(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        kind=entry.kind.value,
        incident_id=entry.incident_id,
        plan_hash=entry.plan_hash,
        outcome=entry.outcome,
        data=dict(entry.data),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


@router.get("/control", response_model=ControlOut, responses={401: {}})
def show_control(request: Request) -> ControlOut:
    """Whether medic is paused (the global kill switch), by whom and why."""
    ctx = context(request)
    require_user(request, ctx.credentials)
    return _out(ctx.store.control.pause_state())


def _flip(request: Request, paused: bool, body: PauseRequest | None) -> ControlOut:
    ctx = context(request)
    user = require_user(request, ctx.credentials)
    reason = body.reason if body is not None else ""
    return _out(ctx.store.control.set_paused(paused, user, reason, ctx.clock.now()))


@router.post("/control/pause", response_model=ControlOut, responses={401: {}})
def pause(request: Request, body: PauseRequest | None = None) -> ControlOut:
    """Stop every action everywhere until resumed; plans escalate with the reason."""
    return _flip(request, True, body)


@router.post("/control/resume", response_model=ControlOut, responses={401: {}})
def resume(request: Request, body: PauseRequest | None = None) -> ControlOut:
    """Allow actions again (within the policy)."""
    return _flip(request, False, body)


@router.get("/audit", response_model=list[AuditEntryOut], responses={401: {}})
def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    incident_id: str | None = None,
) -> list[AuditEntryOut]:
    """The newest audit entries first (of one incident, with `incident_id`)."""
    ctx = context(request)
    require_user(request, ctx.credentials)
    return [_entry(e) for e in ctx.store.audit.recent(limit, incident_id)]
