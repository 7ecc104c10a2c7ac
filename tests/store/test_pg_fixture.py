"""The PostgreSQL test fixture fails loudly, rather than skipping, without a server."""

from __future__ import annotations

import pytest

from tests import pg


def test_an_unreachable_configured_server_is_reported_not_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(pg.ENV_VAR, "postgresql+psycopg://postgres:pw@127.0.0.1:1/postgres")
    with pytest.raises(pg.PostgresUnavailable, match=r"MEDIC_TEST_POSTGRES_URL=.*:\*\*\*@.*refused"):
        with pg.postgres_server():
            pass


def test_each_test_gets_its_own_empty_database(postgres_url: str, postgres_server: pg.PostgresServer) -> None:
    other = postgres_server.create_database()
    try:
        assert other != postgres_url
        assert postgres_url.startswith("postgresql+psycopg://")
    finally:
        postgres_server.drop_database(other)
