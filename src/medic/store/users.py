"""Local users (`Store.users`): who signs in with a password, and with which role.

Kept in the database, not in a file, so every `medic serve` sharing it knows the same
people and `medic users add` takes effect without a restart. Only the password's hash
(made by `medic.credentials.hash_password`) is ever stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medic.domain.access import LocalUser, Role
from medic.store.models import UserRow

__all__ = ["Users"]

Sessions = Callable[[], AbstractContextManager[Session]]


def _user(row: UserRow) -> LocalUser:
    return LocalUser(
        name=row.name,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Users:
    def __init__(self, read: Sessions, write: Sessions) -> None:
        self._read = read
        self._write = write

    def get(self, name: str) -> LocalUser | None:
        with self._read() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return _user(row) if row is not None else None

    def all(self) -> list[LocalUser]:
        with self._read() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def put(self, name: str, role: Role, password_hash: str, now: datetime) -> bool:
        """Add the user, or set a known user's role and password; True if it is new."""
        with self._write() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name).with_for_update())
            if row is None:
                session.add(
                    UserRow(
                        name=name,
                        role=role.value,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return True
            row.role = role.value
            row.password_hash = password_hash
            row.updated_at = now
            return False

    def remove(self, name: str) -> bool:
        with self._write() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                return False
            session.delete(row)
            return True
