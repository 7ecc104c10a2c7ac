"""What commands that only read need, found without creating anything.

`medic incidents list`, `medic doctor`, `medic audit verify` ... must never leave a
`medic-data` directory behind where they ran: they read the credentials file only if it
exists, and they notice a SQLite store that does not exist instead of creating it.
"""

from __future__ import annotations

import json
from pathlib import Path

from medic.settings import Settings

__all__ = ["missing_store", "user_token"]


def user_token(settings: Settings) -> str | None:
    """The token the CLI sends: `token`, a configured user's, or the stored first user's."""
    if settings.token:
        return settings.token
    if settings.users:
        return next(iter(settings.users.values()))
    path = settings.credentials_path
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    users = stored.get("users") if isinstance(stored, dict) else None
    if isinstance(users, dict):
        token = next(iter(users.values()), None)
        return token if isinstance(token, str) else None
    return None


def missing_store(settings: Settings) -> Path | None:
    """The default SQLite file when it does not exist yet (nothing was ever recorded)."""
    if settings.database_url is not None:
        return None
    path = settings.data_dir / "medic.sqlite"
    return None if path.exists() else path
