"""Engines for SQLite and PostgreSQL, and the translation of their errors.

SQLite is set up for one file shared by a web server thread, worker threads and
other processes (DBOS uses the same file): WAL so that readers never wait for the
writer, a busy timeout so that writers queue instead of failing, foreign keys on, and
transactions begun by us rather than by the driver so that a writing transaction can
take the write lock up front (`BEGIN IMMEDIATE`). Without that, two transactions that
both read and then write can fail at once with "database is locked", whatever the
timeout.

Durability: `synchronous = FULL`, so every commit syncs the write-ahead log to disk
before it returns. A webhook is answered 2xx only after its alerts are committed, and
that promise has to survive a power loss, not only a crash of the process (which is
all that NORMAL guarantees in WAL mode). The price, one fsync per commit, is shared by
a whole batch of webhooks (the ingest queue commits them together).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from medic.domain.errors import (
    ConflictError,
    MedicError,
    PermanentError,
    TransientError,
)

__all__ = ["WRITE", "make_engine", "parse_url", "redact", "translate_errors"]

# Connection execution option: this transaction will write (SQLite: BEGIN IMMEDIATE).
WRITE = "medic_write"

BUSY_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10

# SQLSTATE classes of server errors worth a retry: 08 connection exception, 40
# transaction rollback (serialization, deadlock), 53 insufficient resources, 57
# operator intervention (shutdown, "the database system is starting up").
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
# PostgreSQL's own words when it will take connections again soon: starting up, not yet
# consistent after a crash ("not yet accepting connections"), a standby without hot
# standby, shutting down, in recovery, out of connection slots.
_TRANSIENT_FATAL_PHRASES = (
    "starting up",
    "accepting connections",
    "shutting down",
    "recovery mode",
    "too many",
    "connection slots are reserved",
)


def redact(url: str | URL) -> str:
    """The URL with its password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparsable database URL>"


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except exc.ArgumentError as e:
        raise PermanentError(f"invalid database URL {redact(url)!s}: {e}") from e
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise PermanentError(
            f"unsupported database {redact(parsed)}: medic stores its state in SQLite or "
            "PostgreSQL (postgresql+psycopg://user:password@host:5432/dbname)"
        )
    if parsed.get_backend_name() == "postgresql":
        # psycopg 3 is the driver medic ships with (DBOS uses it whatever the URL says).
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        # One shared connection, or each thread would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PermanentError(
                f"database {redact(url)}: cannot create {path.parent}: {e.strerror or e}"
            ) from e
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
    _install_sqlite_hooks(engine, wal=not in_memory)
    return engine


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
        # Autocommit at the driver: transactions are begun by `_on_begin` below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")  # see the module's docstring
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into medic's error tree, naming the database."""
    try:
        yield
    except MedicError:
        raise
    except exc.IntegrityError as e:
        raise ConflictError(f"database {redact(url)}: {_reason(e)}") from e
    except exc.DBAPIError as e:
        error = TransientError if _is_transient(url, e) else PermanentError
        raise error(f"database {redact(url)}: {_reason(e)}") from e
    except exc.SQLAlchemyError as e:
        raise PermanentError(f"database {redact(url)}: {e}") from e


def _reason(e: exc.DBAPIError) -> str:
    first_line = str(e.orig).strip().splitlines()
    return first_line[0] if first_line else type(e.orig).__name__


def _is_transient(url: URL, e: exc.DBAPIError) -> bool:
    if e.connection_invalidated:
        return True
    if url.get_backend_name() == "sqlite":
        message = str(e.orig).lower()
        return "locked" in message or "busy" in message
    sqlstate = getattr(e.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    # psycopg gives no SQLSTATE when connecting fails. A FATAL message means the
    # server answered and said no (unknown database or role, bad password); otherwise
    # it never answered (refused, unreachable, timed out) and may come back.
    message = str(e.orig).lower()
    if "fatal:" in message:
        return any(phrase in message for phrase in _TRANSIENT_FATAL_PHRASES)
    return isinstance(e, exc.OperationalError)
