"""What commands that only read need, found without creating anything.

`medic incidents list`, `medic doctor`, `medic audit verify` ... must never leave a
`medic-data` directory behind where they ran: they read the credentials file only if it
exists, and they notice a SQLite store that does not exist instead of creating it.
"""

from __future__ import annotations

from pathlib import Path

from medic.settings import Settings

__all__ = ["missing_store"]


def missing_store(settings: Settings) -> Path | None:
    """The default SQLite file when it does not exist yet (nothing was ever recorded)."""
    if settings.database_url is not None:
        return None
    path = settings.data_dir / "medic.sqlite"
    return None if path.exists() else path
