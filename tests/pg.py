"""A PostgreSQL server for the tests, and a fresh database per test.

Where the server comes from, in order:

1. ``MEDIC_TEST_POSTGRES_URL`` (a SQLAlchemy URL to a maintenance database of a server
   where the user may CREATE DATABASE), when set; it must answer.
2. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, when it answers (the
   development machines and CI run one, trust auth).
3. A throwaway server: ``initdb`` and ``pg_ctl`` from /usr/lib/postgresql/*/bin, in a
   temporary directory, on a free port, stopped and deleted at the end. As root it
   runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).

When none of these works, `postgres_server` raises `PostgresUnavailableError` with what
was tried, and the tests that need PostgreSQL fail (they are not skipped).

URLs are SQLAlchemy URLs with the psycopg 3 driver (``postgresql+psycopg://``); medic's
`Store` and DBOS (which sets that driver itself) both take them as they are.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "PostgresServer",
    "PostgresUnavailableError",
    "ThrowawayServer",
    "postgres_server",
    "throwaway_server",
]

ENV_VAR = "MEDIC_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_OS_USER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be found or started."""


@dataclass(frozen=True)
class PostgresServer:
    """A reachable server; `admin_url` points at a database we may connect to."""

    admin_url: str

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def create_database(self) -> str:
        """CREATE a uniquely named, empty database and return its URL."""
        name = f"medic_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_conninfo(self.admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        """DROP the database of `url`, disconnecting whoever is still connected."""
        name = make_url(url).database
        if not name:
            raise ValueError(f"no database in {url!r}")
        with psycopg.connect(_conninfo(self.admin_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _conninfo(url: str) -> str:
    """libpq's form of a SQLAlchemy URL (the same, without the +driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _problem(url: str) -> str | None:
    """None when the server at `url` answers a query, else why not."""
    try:
        with psycopg.connect(_conninfo(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0]
    return None


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """The first PostgreSQL that works, in the order the module docstring gives."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        problem = _problem(configured)
        if problem:
            raise PostgresUnavailableError(
                f"{ENV_VAR}={_redacted(configured)} does not answer: {problem}"
            )
        yield PostgresServer(configured)
        return
    default_problem = _problem(DEFAULT_URL)
    if default_problem is None:
        yield PostgresServer(DEFAULT_URL)
        return
    try:
        with throwaway_server() as server:
            yield server
    except PostgresUnavailableError as e:
        raise PostgresUnavailableError(
            f"no PostgreSQL for the tests: {ENV_VAR} is not set, {DEFAULT_URL} does not "
            f"answer ({default_problem}), and no throwaway server could start: {e}"
        ) from e


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _binaries() -> tuple[Path, Path]:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        raise PostgresUnavailableError(
            "no initdb under /usr/lib/postgresql/*/bin (install the postgresql package)"
        )
    initdb = Path(found[-1])
    return initdb, initdb.with_name("pg_ctl")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class ThrowawayServer(PostgresServer):
    """A server of our own: it can be stopped (a real outage) and started again."""

    pg_ctl: tuple[str, ...] = ()  # the command prefix: [runuser ...] pg_ctl -D data
    start_options: tuple[str, ...] = ()

    def stop(self) -> None:
        """`pg_ctl stop -m immediate`: every connection is cut, as in a crash."""
        _run([*self.pg_ctl, "-m", "immediate", "-w", "stop"])

    def start(self) -> None:
        _run([*self.pg_ctl, *self.start_options, "-w", "start"])


@contextmanager
def throwaway_server() -> Iterator[ThrowawayServer]:
    """A new server in a temporary directory, stopped and deleted on exit."""
    initdb, pg_ctl = _binaries()
    base = Path(tempfile.mkdtemp(prefix="medic-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(_OS_USER)
        except KeyError as e:
            raise PostgresUnavailableError(
                f"running as root and there is no {_OS_USER!r} user"
            ) from e
        os.chown(base, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", _OS_USER, "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        _run(
            [*prefix, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        _run(
            [*prefix, str(pg_ctl), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
            log,
        )
        try:
            yield ThrowawayServer(
                f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                pg_ctl=(*prefix, str(pg_ctl), "-D", str(data)),
                start_options=("-l", str(log), "-o", options),
            )
        finally:  # already stopped when a test's outage did not end: nothing to stop
            with contextlib.suppress(PostgresUnavailableError):
                _run([*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(command: list[str], log: Path | None = None) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", None) or str(e)
        if log is not None and log.exists():
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        raise PostgresUnavailableError(f"{' '.join(command)} failed: {detail.strip()}") from e
