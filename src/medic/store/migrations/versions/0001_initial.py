"""The initial schema: signals, rejected webhooks, incidents and their records.

Written by hand (checked against the models by tests/store/test_migrations.py) and
frozen: it uses plain SQLAlchemy types, not medic's, so that later changes to the
models cannot change what this revision does.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INCIDENTS = "medic_incidents"


def _seq() -> sa.Column[int]:
    # BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that auto-increments.
    return sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _string(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=False)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("seq", name=f"pk_{table}")


def _incident_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["incident_id"], [f"{_INCIDENTS}.id"], name=f"fk_{table}_incident_id_{_INCIDENTS}"
    )


def _document_table(table: str, *columns: sa.schema.SchemaItem) -> None:
    """A per-incident JSON document (diagnosis, plan, ...) with some queryable columns."""
    op.create_table(
        table,
        _seq(),
        _string("incident_id", 64),
        *columns,
        _text("body"),
        _pk(table),
        _incident_fk(table),
    )
    op.create_index(f"ix_{table}_incident_id", table, ["incident_id"])


def upgrade() -> None:
    op.create_table(
        _INCIDENTS,
        _seq(),
        _string("id", 64),
        _text("title"),
        _string("state", 32),
        _time("opened_at"),
        _time("updated_at"),
        _text("group_key"),
        _text("service", nullable=True),
        _text("namespace", nullable=True),
        _string("severity", 32),
        _pk(_INCIDENTS),
        sa.UniqueConstraint("id", name=f"uq_{_INCIDENTS}_id"),
    )
    op.create_index(f"ix_{_INCIDENTS}_group_key", _INCIDENTS, ["group_key"])
    op.create_index(f"ix_{_INCIDENTS}_state", _INCIDENTS, ["state"])

    op.create_table(
        "medic_rejected_webhooks",
        _seq(),
        _string("id", 64),
        _text("source"),
        _text("reason"),
        _text("body"),
        _time("at"),
        _pk("medic_rejected_webhooks"),
        sa.UniqueConstraint("id", name="uq_medic_rejected_webhooks_id"),
    )

    op.create_table(
        "medic_signals",
        _seq(),
        _string("id", 64),
        _text("dedup_key"),
        _string("source", 32),
        _text("fingerprint"),
        _text("name"),
        _text("service", nullable=True),
        _text("namespace", nullable=True),
        _string("severity", 32),
        sa.Column("firing", sa.Boolean(), nullable=False),
        _time("starts_at"),
        _time("ends_at", nullable=True),
        _text("body"),
        _text("raw", nullable=True),
        _pk("medic_signals"),
        sa.UniqueConstraint("id", name="uq_medic_signals_id"),
        sa.UniqueConstraint("dedup_key", name="uq_medic_signals_dedup_key"),
    )

    op.create_table(
        "medic_incident_signals",
        _seq(),
        _string("incident_id", 64),
        _string("signal_id", 64),
        _pk("medic_incident_signals"),
        _incident_fk("medic_incident_signals"),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["medic_signals.id"],
            name="fk_medic_incident_signals_signal_id_medic_signals",
        ),
        sa.UniqueConstraint(
            "incident_id", "signal_id", name="uq_medic_incident_signals_incident_id_signal_id"
        ),
    )
    op.create_index("ix_medic_incident_signals_signal_id", "medic_incident_signals", ["signal_id"])

    op.create_table(
        "medic_timeline",
        _seq(),
        _string("incident_id", 64),
        _text("key", nullable=True),
        _time("at"),
        _string("kind", 64),
        _text("message"),
        _text("actor"),
        _text("data"),
        _pk("medic_timeline"),
        _incident_fk("medic_timeline"),
        sa.UniqueConstraint("incident_id", "key", name="uq_medic_timeline_incident_id_key"),
    )

    op.create_table(
        "medic_approvals",
        _seq(),
        _string("incident_id", 64),
        _string("plan_hash", 64),
        _string("decision", 32),
        _text("actor"),
        _time("at"),
        _string("channel", 32),
        _text("reason"),
        _pk("medic_approvals"),
        _incident_fk("medic_approvals"),
        sa.UniqueConstraint(
            "incident_id", "plan_hash", name="uq_medic_approvals_incident_id_plan_hash"
        ),
    )

    _document_table("medic_diagnoses")
    _document_table("medic_plans", _string("plan_hash", 64))
    _document_table(
        "medic_executions",
        _text("idempotency_key"),
        _string("action_kind", 32),
        _text("target"),
        _string("status", 32),
        _time("started_at"),
        _time("finished_at"),
        sa.UniqueConstraint("idempotency_key", name="uq_medic_executions_idempotency_key"),
    )
    _document_table("medic_verifications", _string("outcome", 32), _time("checked_at"))
    _document_table("medic_postmortems")


def downgrade() -> None:
    for table in (
        "medic_postmortems",
        "medic_verifications",
        "medic_executions",
        "medic_plans",
        "medic_diagnoses",
        "medic_approvals",
        "medic_timeline",
        "medic_incident_signals",
        "medic_signals",
        "medic_rejected_webhooks",
        _INCIDENTS,
    ):
        op.drop_table(table)
