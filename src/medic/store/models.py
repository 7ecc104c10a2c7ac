"""The tables, as SQLAlchemy 2 typed models. Private to the store.

Every table has an integer `seq` primary key that records insertion order (timeline
entries at the same instant, plan versions) and, where the outside world names rows,
a unique string `id`. Enums are stored as their string values (no native enum types:
adding a member must not need a migration). Nested domain objects are JSON documents
written by `medic.store.codec`; the columns beside them exist to be queried.

The schema is created by the Alembic migrations in `migrations/versions/`; a change
here needs a new migration there (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from medic.store.codec import JSONValue
from medic.store.columns import JSONText, SeqInteger, UTCDateTime

__all__ = [
    "ApprovalRow",
    "AuditHeadRow",
    "AuditRow",
    "Base",
    "ControlRow",
    "DiagnosisRow",
    "ExecutionRow",
    "FirstApprovalRow",
    "IncidentRow",
    "IncidentSignalRow",
    "PlanRow",
    "PostmortemRow",
    "RejectedWebhookRow",
    "SignalRow",
    "TimelineRow",
    "VerificationRow",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_INCIDENT_FK = "medic_incidents.id"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class SignalRow(Base):
    __tablename__ = "medic_signals"
    __table_args__ = (Index("ix_medic_signals_fingerprint_source", "fingerprint", "source"),)

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    dedup_key: Mapped[str] = mapped_column(Text, unique=True)
    source: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(Text)
    namespace: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))
    firing: Mapped[bool]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)
    raw: Mapped[str | None] = mapped_column(Text)


class RejectedWebhookRow(Base):
    __tablename__ = "medic_rejected_webhooks"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class IncidentRow(Base):
    __tablename__ = "medic_incidents"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32), index=True)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    group_key: Mapped[str] = mapped_column(Text, index=True)
    service: Mapped[str | None] = mapped_column(Text)
    namespace: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))


class IncidentSignalRow(Base):
    __tablename__ = "medic_incident_signals"
    __table_args__ = (UniqueConstraint("incident_id", "signal_id"),)

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK))
    signal_id: Mapped[str] = mapped_column(String(64), ForeignKey("medic_signals.id"), index=True)


class TimelineRow(Base):
    __tablename__ = "medic_timeline"
    # NULL keys never collide, so entries without a key are always added.
    __table_args__ = (UniqueConstraint("incident_id", "key"),)

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK))
    key: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    data: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class DiagnosisRow(Base):
    __tablename__ = "medic_diagnoses"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK), index=True)
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class PlanRow(Base):
    __tablename__ = "medic_plans"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK), index=True)
    plan_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class ApprovalRow(Base):
    __tablename__ = "medic_approvals"
    __table_args__ = (UniqueConstraint("incident_id", "plan_hash"),)

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK))
    plan_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)


class FirstApprovalRow(Base):
    """The first of the two approvals a high-risk plan needs: one per plan (the unique
    constraint), so two approvers at the same instant cannot both be the first."""

    __tablename__ = "medic_first_approvals"
    __table_args__ = (UniqueConstraint("incident_id", "plan_hash"),)

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK))
    plan_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)


class ExecutionRow(Base):
    __tablename__ = "medic_executions"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK), index=True)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    action_kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class VerificationRow(Base):
    __tablename__ = "medic_verifications"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime]
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class PostmortemRow(Base):
    __tablename__ = "medic_postmortems"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey(_INCIDENT_FK), index=True)
    body: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)


class AuditRow(Base):
    """One entry of the hash-chained audit log. `seq` is given by the appender (the
    head's seq + 1), never by the database, so that the chain has no gaps."""

    __tablename__ = "medic_audit"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    plan_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[JSONValue] = mapped_column(JSONText, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What a retried step names its entry by, so that it is appended once (not hashed).
    idempotency_key: Mapped[str | None] = mapped_column(Text, index=True, unique=True)
    # HMAC of `hash` under the audit key kept outside the database; NULL for entries
    # sealed before the log was keyed.
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The audit chain's last entry (one row, id 1): appenders lock it to take turns,
    and verification compares it with the log so that a cut-off tail is noticed."""

    __tablename__ = "medic_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class ControlRow(Base):
    """Switches every `medic serve` process reads: the kill switch (`name` "pause")."""

    __tablename__ = "medic_control"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class UserRow(Base):
    """People who sign in with a password (`medic users add`); the Argon2 hash only."""

    __tablename__ = "medic_users"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
