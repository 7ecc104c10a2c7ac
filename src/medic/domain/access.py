"""Who may do what: roles, the people medic knows, and how a request proved who it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AuthChannel", "LocalUser", "Principal", "Role"]


class Role(StrEnum):
    """Ordered: each role may do everything the ones before it may.

    viewer: read incidents, signals, the audit log, the kill switch's state;
    approver: + approve and reject plans; admin: + pause and resume (the kill switch).
    """

    VIEWER = "viewer"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


_RANKS = {Role.VIEWER: 0, Role.APPROVER: 1, Role.ADMIN: 2}


class AuthChannel(StrEnum):
    """How a caller authenticated; recorded as the channel of its decisions.

    Derived from the credential, never from a header the caller chose: a web session
    (or the trusted proxy in front of the UI) is `web`, a user's CLI token is `cli`,
    any other bearer token is `api`.
    """

    API = "api"
    CLI = "cli"
    WEB = "web"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user name approvals and the audit log record."""

    name: str
    role: Role
    channel: AuthChannel


@dataclass(frozen=True)
class LocalUser:
    """A person who signs in to the UI with a password (the hash only is kept)."""

    name: str
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
