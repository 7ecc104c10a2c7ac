"""Fixtures shared by every test folder: databases.

- `postgres_server` (session): a reachable PostgreSQL server (see tests/pg.py); tests
  that use it FAIL, never skip, when none can be had.
- `postgres_url`: a fresh, empty PostgreSQL database for one test, dropped after it.
- `sqlite_url`: a SQLite file URL in the test's tmp_path.
- `database_url`: parametrized over both; a test using it runs once per backend.

All are SQLAlchemy URLs (``sqlite:////abs/path``, ``postgresql+psycopg://...``) that
`medic.store.Store` and DBOS (as its system database) both accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.PostgresServer]:
    problem = ""
    try:
        with pg.postgres_server() as server:
            yield server
    except pg.PostgresUnavailableError as e:
        problem = str(e)
    if problem:  # failed outside the except block, so the report is the message alone
        pytest.fail(f"PostgreSQL is required for this test: {problem}", pytrace=False)


@pytest.fixture
def postgres_url(postgres_server: pg.PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'medic.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url
