"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = [
    "MAX_READ_LIMIT",
    "DecisionRequest",
    "DecisionResponse",
    "IncidentDetail",
    "IncidentSummary",
    "IngestResponse",
    "IngestedSignal",
    "RejectedAlert",
    "RejectedOut",
    "SignalPage",
    "TimelinePage",
]


# The most records one list read returns (`?limit=`); more is a 422, not a slow read.
MAX_READ_LIMIT = 1000


class IngestedSignal(BaseModel):
    signal_id: str
    duplicate: bool = Field(description="a redelivery of an alert already stored")
    incident_id: str | None
    new_incident: bool


class RejectedAlert(BaseModel):
    index: int = Field(description="position in the batch; -1 when refused after parsing")
    reason: str


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    signals: list[IngestedSignal]
    rejected: list[RejectedAlert] = Field(
        default_factory=list, description="alerts of the batch refused (the others stored)"
    )


class IncidentSummary(BaseModel):
    id: str
    title: str
    state: str
    service: str | None
    namespace: str | None
    severity: str
    opened_at: datetime
    updated_at: datetime


class IncidentDetail(IncidentSummary):
    timeline: list[dict[str, object]] = Field(
        description="the loop's steps and the first signals joining (all: timeline_url)"
    )
    timeline_count: int = Field(description="entries in the whole timeline")
    timeline_url: str
    signals: list[dict[str, object]] = Field(description="the first signals (all: signals_url)")
    signal_count: int = Field(description="signals attached to the incident")
    signals_url: str
    diagnosis: dict[str, object] | None
    plan: dict[str, object] | None
    plan_hash: str | None
    approvals: list[dict[str, object]]
    executions: list[dict[str, object]]
    verification: dict[str, object] | None
    postmortem_path: str | None
    url: str


class RejectedOut(BaseModel):
    id: str
    source: str
    reason: str
    at: datetime
    body: str


class DecisionRequest(BaseModel):
    plan_hash: str = Field(min_length=8, description="the hash of the exact plan decided on")
    reason: str = Field("", max_length=2000)


class DecisionResponse(BaseModel):
    incident_id: str
    plan_hash: str
    decision: str
    actor: str
    channel: str
    at: datetime


class SignalPage(BaseModel):
    incident_id: str
    offset: int
    limit: int
    total: int = Field(description="signals attached to the incident")
    signals: list[dict[str, object]]


class TimelinePage(BaseModel):
    incident_id: str
    offset: int
    limit: int
    total: int = Field(description="entries in the incident's timeline")
    timeline: list[dict[str, object]]
