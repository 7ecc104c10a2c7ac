"""An index on the alert a signal is a delivery of (fingerprint, source): a resolution
finds the incident its firing delivery joined, whatever group that incident has.

Written by hand (checked against the models by tests/store/test_migrations.py) and
frozen: plain SQLAlchemy types only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

__all__: list[str] = []

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_medic_signals_fingerprint_source"


def upgrade() -> None:
    op.create_index(_INDEX, "medic_signals", ["fingerprint", "source"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="medic_signals")
