"""Schema upgrades through Alembic, configured in code (there is no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from medic.store.engine import WRITE

__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant shared by all medic processes: "medic" in ASCII.
_PG_LOCK_KEY = 0x6D65646963


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
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT :key"), {"key": _PG_LOCK_KEY}
                )
            command.upgrade(alembic_config(connection), "head")
