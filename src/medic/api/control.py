"""The kill switch and the audit log over HTTP: `/control`, `/control/pause|resume`, `/audit`.

Any user may read them (a viewer's token); only an admin pauses and resumes. Pausing
is stored in the database, so it stops every `medic serve` process sharing it; each
flip is an audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from medic.api.app import context
from medic.api.auth import admin, viewer
from medic.domain.access import Principal
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


_AUTH: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
Viewer = Annotated[Principal, Depends(viewer)]
Admin = Annotated[Principal, Depends(admin)]


@router.get("/control", response_model=ControlOut, responses=_AUTH)
def show_control(request: Request, user: Viewer) -> ControlOut:
    """Whether medic is paused (the global kill switch), by whom and why (any user)."""
    return _out(context(request).store.control.pause_state())


def _flip(request: Request, user: Principal, paused: bool, body: PauseRequest | None) -> ControlOut:
    ctx = context(request)
    reason = body.reason if body is not None else ""
    return _out(ctx.store.control.set_paused(paused, user.name, reason, ctx.clock.now()))


@router.post("/control/pause", response_model=ControlOut, responses=_AUTH)
def pause(request: Request, user: Admin, body: PauseRequest | None = None) -> ControlOut:
    """Stop every action everywhere until resumed; plans escalate with the reason (admin)."""
    return _flip(request, user, True, body)


@router.post("/control/resume", response_model=ControlOut, responses=_AUTH)
def resume(request: Request, user: Admin, body: PauseRequest | None = None) -> ControlOut:
    """Allow actions again, within the policy (admin)."""
    return _flip(request, user, False, body)


@router.get("/audit", response_model=list[AuditEntryOut], responses=_AUTH)
def audit(
    request: Request,
    user: Viewer,
    limit: int = Query(100, ge=1, le=1000),
    incident_id: str | None = Query(None, max_length=64),
) -> list[AuditEntryOut]:
    """The newest audit entries first (of one incident, with `incident_id`; any user)."""
    ctx = context(request)
    return [_entry(e) for e in ctx.store.audit.recent(limit, incident_id)]
