"""One first approval per plan, and the audit log's keyed seal.

`medic_first_approvals` holds the first of the two approvals a high-risk plan needs,
unique per plan so that two approvers at once cannot both be first. `medic_audit.mac`
is the HMAC of each entry's hash under a key kept outside the database; entries
sealed before it existed keep NULL (verified as the unkeyed, legacy part of the chain).

Written by hand (checked against the models by tests/store/test_migrations.py) and
frozen: plain SQLAlchemy types only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medic_first_approvals",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("plan_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["medic_incidents.id"],
            name="fk_medic_first_approvals_incident_id_medic_incidents",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_medic_first_approvals"),
        sa.UniqueConstraint(
            "incident_id", "plan_hash", name="uq_medic_first_approvals_incident_id_plan_hash"
        ),
    )
    op.add_column("medic_audit", sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("medic_audit") as batch:
        batch.drop_column("mac")
    op.drop_table("medic_first_approvals")
