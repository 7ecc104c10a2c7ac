"""SQL statements the repositories share, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from medic.store.models import Base

__all__ = ["insert_ignore"]


def insert_ignore(session: Session, model: type[Base], values: Mapping[str, object]) -> bool:
    """INSERT unless a unique constraint already holds such a row; True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(cast(Table, model.__table__))
        .values(dict(values))
        .on_conflict_do_nothing()
        .returning(text("1"))
    )
    # Core, not the ORM's bulk insert: one row back when inserted, none on a conflict.
    return session.connection().execute(statement).first() is not None
