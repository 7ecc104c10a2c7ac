"""The audit log (hash-chained entries and their head) and the control switches.

Written by hand (checked against the models by tests/store/test_migrations.py) and
frozen: plain SQLAlchemy types only. The head row starts at the genesis of the chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS_HASH = "0" * 64


def _seq() -> sa.Column[int]:
    return sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "medic_audit",
        _seq(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=True),
        sa.Column("plan_hash", sa.String(length=64), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_medic_audit"),
        sa.UniqueConstraint("prev_hash", name="uq_medic_audit_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_medic_audit_hash"),
    )
    op.create_index("ix_medic_audit_incident_id", "medic_audit", ["incident_id"])

    head = op.create_table(
        "medic_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_medic_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": _GENESIS_HASH}])

    op.create_table(
        "medic_control",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_medic_control"),
        sa.UniqueConstraint("name", name="uq_medic_control_name"),
    )


def downgrade() -> None:
    for table in ("medic_control", "medic_audit_head", "medic_audit"):
        op.drop_table(table)
