"""Alembic's entry point for medic's schema.

Run only through `medic.store.migrate`, which hands over an open connection in
`config.attributes["connection"]` (already holding the migration lock); there is no
alembic.ini and no URL here.
"""

from alembic import context
from sqlalchemy.engine import Connection

from medic.store.migrate import VERSION_TABLE, include_name
from medic.store.models import Base

__all__: list[str] = []


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("medic's migrations run through medic.store.migrate, with a connection")
_run(connection)
