"""A migrated `Store` on each backend (SQLite file, PostgreSQL database) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from medic.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as store:
        store.migrate()
        yield store
