"""Schema upgrades through Alembic, configured in code (there is no alembic.ini)."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from medic.store.engine import WRITE

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "alembic_config", "include_name", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "medic_alembic_version"

# Any constant shared by all medic processes: "medic" in ASCII.
_PG_LOCK_KEY = 0x6D65646963

# Alembic keeps its running context in module globals: one upgrade per process at a time.
_PROCESS_LOCK = threading.Lock()


def include_name(name: str | None, type_: str, _parents: MutableMapping[Any, str | None]) -> bool:
    """Alembic's filter: medic owns only its `medic_` tables.

    DBOS keeps its own tables in the same SQLite file; autogenerate must not offer
    to drop them.
    """
    return type_ != "table" or (name or "").startswith("medic_")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for medic's migrations; env.py uses `connection`."""
    config = Config()
    # Config values go through configparser interpolation, where % is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Upgrade to the newest schema in one transaction, one process at a time.

    Several processes may start together against one database: on PostgreSQL a
    transaction-scoped advisory lock makes the others wait and then find nothing
    to do; on SQLite `BEGIN IMMEDIATE` takes the database's write lock for the same
    effect. DDL is transactional on both, so a failed upgrade leaves no half schema.
    """
    with _PROCESS_LOCK, engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            command.upgrade(alembic_config(connection), "head")
