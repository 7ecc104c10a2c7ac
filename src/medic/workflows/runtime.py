"""Starting and stopping DBOS, the durable-execution engine under the workflows."""

from __future__ import annotations

from dbos import DBOS, DBOSConfig
from sqlalchemy.engine import make_url

import medic

__all__ = ["dbos_url", "launch", "shutdown"]


def dbos_url(database_url: str) -> str:
    """DBOS's system database: PostgreSQL shares medic's database (schema `dbos`);
    a SQLite store gets a sibling file, so the two schemas never meet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return url.set(
            database=f"{url.database.removesuffix('.sqlite')}.dbos.sqlite"
        ).render_as_string(hide_password=False)
    return url.render_as_string(hide_password=False)


def launch(database_url: str, executor_id: str | None = None) -> None:
    """Configure and launch DBOS; pending workflows of this executor resume now.

    Replicas sharing one PostgreSQL database need distinct, stable `executor_id`s:
    each then resumes only the workflows it was running when it stopped."""
    config: DBOSConfig = {
        "name": "medic",
        "system_database_url": dbos_url(database_url),
        # Workflows recorded by an earlier build of the same release still recover.
        "application_version": medic.__version__,
        "notification_listener_polling_interval_sec": 0.1,
        "log_level": "WARNING",
    }
    if executor_id:
        config["executor_id"] = executor_id
    DBOS(config=config)
    DBOS.launch()


def shutdown() -> None:
    DBOS.destroy(workflow_completion_timeout_sec=1)
