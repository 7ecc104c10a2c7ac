"""The audit log's idempotency key: a step that runs again appends its entry once.

Written by hand (checked against the models by tests/store/test_migrations.py) and
frozen: plain SQLAlchemy types only. A nullable column with a unique index (NULLs are
distinct on both backends), so existing entries and unkeyed appends are unaffected;
the key is not part of an entry's hash, so the chain is unchanged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_medic_audit_idempotency_key"


def upgrade() -> None:
    op.add_column("medic_audit", sa.Column("idempotency_key", sa.Text(), nullable=True))
    op.create_index(_INDEX, "medic_audit", ["idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="medic_audit")
    with op.batch_alter_table("medic_audit") as batch:
        batch.drop_column("idempotency_key")
