"""Fixtures shared by the workflow tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medic.store import Store
from medic.workflows.context import uninstall
from tests.workflows.sandbox_deps import install_sandbox_deps


@pytest.fixture
def store(tmp_path: Path, database_url: str) -> Iterator[Store]:
    """A migrated store with the workflows' dependencies over the seed sandbox."""
    store = Store(database_url)
    store.migrate()
    install_sandbox_deps(store, tmp_path)
    yield store
    uninstall()
    store.close()
