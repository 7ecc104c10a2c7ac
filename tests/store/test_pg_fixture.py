"""The PostgreSQL test fixture fails loudly, rather than skipping, without a server."""

from __future__ import annotations

import psycopg
import pytest

from medic.store import Store
from tests import pg
from tests.store import builders


def test_an_unreachable_configured_server_is_reported_not_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(pg.ENV_VAR, "postgresql+psycopg://postgres:pw@127.0.0.1:1/postgres")
    with (
        pytest.raises(
            pg.PostgresUnavailableError, match=r"MEDIC_TEST_POSTGRES_URL=.*:\*\*\*@.*refused"
        ),
        pg.postgres_server(),
    ):
        pass


def test_each_test_gets_its_own_empty_database(
    postgres_url: str, postgres_server: pg.PostgresServer
) -> None:
    other = postgres_server.create_database()
    try:
        assert other != postgres_url
        assert postgres_url.startswith("postgresql+psycopg://")
    finally:
        postgres_server.drop_database(other)


def test_a_throwaway_server_starts_serves_and_stops() -> None:
    # The fallback for machines with no PostgreSQL running: keep it from rotting.
    with pg.throwaway_server() as server:
        url = server.create_database()
        with Store(url) as store:
            store.migrate()
            store.create_incident(builders.incident())
            assert [i.id for i in store.list_incidents()] == ["inc-1"]
        server.drop_database(url)
    with pytest.raises(psycopg.OperationalError):  # stopped: nothing listens any more
        server.create_database()
