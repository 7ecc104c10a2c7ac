"""Schema upgrades, concurrent use, and what a user sees when the database is not there."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from medic.action.audit import verify_chain
from medic.domain import PermanentError, TimelineEntry, TransientError
from medic.domain.audit import AuditDraft, AuditKind
from medic.store import Store
from medic.store.engine import translate_errors
from medic.store.migrate import VERSION_TABLE, alembic_config, include_name
from medic.store.models import Base
from tests import pg
from tests.store import builders
from tests.store.builders import T0


def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))
    finally:
        engine.dispose()


def test_migrating_again_keeps_the_data(database_url: str) -> None:
    with Store(database_url) as store:
        store.migrate()
        store.create_incident(builders.incident())
    with Store(database_url) as store:
        store.migrate()
        store.migrate()
        assert store.get_incident("inc-1") == builders.incident()
    assert _versions(database_url) == ["0006"]


def test_the_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    # DBOS keeps its tables beside ours in a shared database: they are not ours to manage.
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE workflow_status (workflow_uuid TEXT)"))
    with Store(database_url) as store:
        store.migrate()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "version_table": VERSION_TABLE,
                    "compare_type": True,
                    "include_name": include_name,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


_MIGRATE_WHEN_TOLD = """
import sys
from medic.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
store.migrate()
print("migrated", flush=True)
"""


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_WHEN_TOLD, database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for child in children:  # all imported and connected: now release them together
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert [c.returncode for c in children] == [0, 0, 0], [err for _, err in outcomes]
    assert _versions(database_url) == ["0006"]


def test_threads_and_processes_write_at_the_same_time(database_url: str) -> None:
    with Store(database_url) as setup:
        setup.migrate()
        setup.create_incident(builders.incident())
    stores = [Store(database_url) for _ in range(3)]
    barrier = threading.Barrier(6)

    def write(worker: int) -> None:
        store = stores[worker % len(stores)]
        barrier.wait()
        for i in range(15):
            entry = TimelineEntry(at=T0 + timedelta(seconds=i), kind="k", message=f"{worker}/{i}")
            store.add_timeline("inc-1", entry, key=f"{worker}/{i}")
            store.set_state("inc-1", builders.incident().state, T0 + timedelta(seconds=i))

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(write, range(6)))
        assert len(stores[0].timeline("inc-1")) == 6 * 15
    finally:
        for store in stores:
            store.close()


def test_sqlite_creates_the_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "state" / "deeper" / "medic.sqlite"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
    assert path.is_file()


def test_an_unusable_sqlite_path_is_a_permanent_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'a-file' / 'medic.sqlite'}"
    with pytest.raises(PermanentError, match=r"sqlite:///.*a-file/medic\.sqlite"):
        Store(url)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_refused_postgres_connection_is_transient_and_hides_the_password() -> None:
    url = f"postgresql+psycopg://medic:s3cret@127.0.0.1:{_closed_port()}/medic"
    with Store(url) as store, pytest.raises(TransientError) as caught:
        store.migrate()
    message = str(caught.value)
    assert "postgresql+psycopg://medic:***@127.0.0.1" in message
    assert "s3cret" not in message
    assert "refused" in message.lower()


@pytest.mark.parametrize(
    ("fatal", "transient"),
    [
        ("the database system is starting up", True),
        ("the database system is not yet accepting connections", True),  # after a crash
        ("the database system is not accepting connections", True),
        ("the database system is shutting down", True),
        ("the database system is in recovery mode", True),
        ("sorry, too many clients already", True),
        ("remaining connection slots are reserved for roles with the SUPERUSER attribute", True),
        ('database "medic" does not exist', False),
        ('password authentication failed for user "medic"', False),
    ],
)
def test_a_server_that_will_answer_again_soon_is_transient(fatal: str, transient: bool) -> None:
    url = make_url("postgresql+psycopg://medic@127.0.0.1:5432/medic")
    message = f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  {fatal}'
    error = sa_exc.OperationalError("connect", {}, psycopg.OperationalError(message))
    expected = TransientError if transient else PermanentError
    with pytest.raises(expected) as caught, translate_errors(url):
        raise error
    assert isinstance(caught.value, TransientError) is transient


def test_a_missing_postgres_database_is_permanent(postgres_server: pg.PostgresServer) -> None:
    url = postgres_server.url_for("medic_no_such_database")
    with Store(url) as store, pytest.raises(PermanentError, match="medic_no_such_database") as e:
        store.ping()
    assert not isinstance(e.value, TransientError)
    assert "does not exist" in str(e.value)


@pytest.mark.parametrize("url", ["mysql://root@localhost/medic", "not a url"])
def test_an_unsupported_url_is_refused_up_front(url: str) -> None:
    with pytest.raises(PermanentError, match=r"database URL|unsupported database"):
        Store(url)


def test_using_a_database_that_was_never_migrated_is_a_clear_error(database_url: str) -> None:
    with Store(database_url) as store, pytest.raises(PermanentError, match="medic_incidents"):
        store.list_incidents()


def test_an_in_memory_sqlite_store_works_across_threads() -> None:
    with Store("sqlite://") as store:
        store.migrate()
        with ThreadPoolExecutor(max_workers=2) as pool:
            pool.submit(store.create_incident, builders.incident()).result()
        assert store.get_incident("inc-1") == builders.incident()


def test_the_audit_key_migration_keeps_the_chain_both_ways(database_url: str) -> None:
    with Store(database_url) as store:
        store.migrate()
        draft = AuditDraft(at=T0, actor="medic", kind=AuditKind.PLAN, outcome="proposed")
        appended = [store.audit.append(draft, key="plan:inc-1:p1"), store.audit.append(draft)]
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0002")
        assert _versions(database_url) == ["0002"]
        with Store(database_url) as store:
            store.migrate()  # back to the newest: the entries survive, unkeyed
            assert list(store.audit.entries()) == appended
            assert verify_chain(store.audit.entries(), store.audit.head()).intact
            assert store.audit.append(draft, key="plan:inc-1:p1").seq == 3
            assert store.audit.append(draft, key="plan:inc-1:p1").seq == 3
    finally:
        engine.dispose()
