"""Bearer tokens: one per webhook source, one (or two) per human user; HMAC signing secrets.

Tokens are configured in settings (`webhook_tokens`, `users`); otherwise generated once
into `<data_dir>/credentials.json` (mode 0600) so that a fresh install is never open.
Signing secrets (`{"signing": {source: secret}}` in that file, or passed in) are never
generated: a source with one must sign every request (HMAC-SHA256 of the body, or of
`timestamp:body`), and its bearer token is then not needed.

Each user has a role (viewer < approver < admin, `medic.domain.access.Role`); a user
configured without one gets `default_role`. A user may also have a CLI token: calls
made with it are recorded as the `cli` channel, calls with the user's token as `api`.
The generated user (`operator`) is an admin and has both. A `credentials.json` written
before roles existed holds only that generated owner: its users are read as admins.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from medic.domain.access import AuthChannel, Principal, Role
from medic.domain.errors import InvalidInputError

__all__ = [
    "SIGNATURE_MAX_AGE_SECONDS",
    "WEBHOOK_SOURCES",
    "Credentials",
    "TrustedProxy",
    "hash_password",
    "load_or_create",
    "password_ok",
]

WEBHOOK_SOURCES = ("alertmanager", "grafana", "datadog", "generic")
DEFAULT_USER = "operator"
# A signed timestamp older (or further ahead) than this is a replay, not a delivery.
SIGNATURE_MAX_AGE_SECONDS = 300.0


@dataclass(frozen=True)
class Credentials:
    webhook_tokens: dict[str, str]  # source -> token
    users: dict[str, str]  # user name -> token
    signing_secrets: dict[str, str] = field(default_factory=dict)  # source -> HMAC secret
    roles: dict[str, Role] = field(default_factory=dict)  # user name -> role
    cli_tokens: dict[str, str] = field(default_factory=dict)  # user name -> CLI token
    default_role: Role = Role.APPROVER  # of a user configured without a role

    def signs(self, source: str) -> bool:
        """Whether requests from `source` must carry an HMAC signature."""
        return bool(self.signing_secrets.get(source))

    def signature_ok(
        self, source: str, body: bytes, signature: str, timestamp: str | None, now: float
    ) -> bool:
        """Check a hex HMAC-SHA256 (optionally prefixed `sha256=`) of `body`, or of
        `timestamp:body` when a timestamp (Unix seconds) was sent; a stale or future
        timestamp fails, so a captured request cannot be replayed later."""
        secret = self.signing_secrets.get(source)
        if not secret:
            return False
        message = body
        if timestamp is not None:
            try:
                sent = float(timestamp)
            except ValueError:
                return False
            # NaN is never "more than 5 min off" and infinity is no time: both refused.
            if not math.isfinite(sent) or abs(now - sent) > SIGNATURE_MAX_AGE_SECONDS:
                return False
            message = timestamp.encode() + b":" + body
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        given = signature.strip().removeprefix("sha256=").lower()
        return hmac.compare_digest(expected, given)

    def webhook_ok(self, source: str, token: str) -> bool:
        expected = self.webhook_tokens.get(source)
        return expected is not None and hmac.compare_digest(expected, token)

    def user_for(self, token: str) -> str | None:
        found = self.principal(token)
        return found.name if found is not None else None

    def principal(self, token: str) -> Principal | None:
        """The user a bearer token belongs to, with its role and channel (every token is
        compared, in constant time, so the answer's timing names no user)."""
        found: Principal | None = None
        given = token.encode()
        for kind, tokens in ((AuthChannel.API, self.users), (AuthChannel.CLI, self.cli_tokens)):
            for name, expected in tokens.items():
                if hmac.compare_digest(expected.encode(), given) and found is None:
                    found = Principal(name, self.role_of(name), kind)
        return found

    def role_of(self, name: str) -> Role:
        return self.roles.get(name, self.default_role)

    def any_user_token(self) -> tuple[str, str] | None:
        return next(iter(self.users.items()), None)

    def cli_token(self) -> str | None:
        """The token the CLI uses when none is configured: the first admin's (else the
        first user's) CLI token, or its API token when it has none."""
        names = sorted(self.users, key=lambda n: (self.role_of(n) is not Role.ADMIN, n))
        if not names:
            return None
        return self.cli_tokens.get(names[0]) or self.users[names[0]]


@dataclass(frozen=True)
class TrustedProxy:
    """A reverse proxy that signs people in (oauth2-proxy, an SSO gateway, ...) and names
    them in a header. The header is believed only on a connection from one of
    `networks` (the proxy's own address, not a forwarded one); from anywhere else it is
    ignored, so nobody can name themselves. The proxy must strip the header from what
    its clients send. A name must be in `roles`, or get `default_role` (None: refused).
    """

    header: str
    networks: tuple[IPv4Network | IPv6Network, ...]
    roles: dict[str, Role] = field(default_factory=dict)
    default_role: Role | None = Role.VIEWER

    def trusts(self, peer: str | None) -> bool:
        if not peer or not self.networks:
            return False
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def user(self, peer: str | None, value: str | None) -> tuple[str, Role] | None:
        """(name, role) of the person the proxy names, if `peer` is the proxy."""
        name = (value or "").strip()
        if not name or len(name) > 256 or not self.trusts(peer):
            return None
        role = self.roles.get(name, self.default_role)
        return (name, role) if role is not None else None


def load_or_create(
    path: Path,
    webhook_tokens: dict[str, str],
    users: dict[str, str],
    signing_secrets: dict[str, str] | None = None,
    *,
    roles: dict[str, Role] | None = None,
    cli_tokens: dict[str, str] | None = None,
    default_role: Role = Role.APPROVER,
) -> Credentials:
    """Configured tokens win; missing ones come from (or are generated into) `path`."""
    stored: dict[str, Any] = {"webhooks": {}, "users": {}, "roles": {}, "cli_tokens": {}}
    changed = False
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored.setdefault("webhooks", {})
        stored.setdefault("users", {})
        stored.setdefault("cli_tokens", {})
        if "roles" not in stored:  # written before roles: its users are the generated owner
            stored["roles"] = {name: Role.ADMIN.value for name in stored["users"]}
            changed = bool(stored["users"])
    for source in WEBHOOK_SOURCES:
        if source not in webhook_tokens and source not in stored["webhooks"]:
            stored["webhooks"][source] = secrets.token_urlsafe(24)
            changed = True
    if not users and not stored["users"]:
        stored["users"][DEFAULT_USER] = secrets.token_urlsafe(24)
        stored["cli_tokens"][DEFAULT_USER] = secrets.token_urlsafe(24)
        stored["roles"][DEFAULT_USER] = Role.ADMIN.value
        changed = True
    if changed:
        _write(path, stored)
    if users:
        user_roles, user_cli = dict(roles or {}), dict(cli_tokens or {})
    else:
        user_roles = {name: Role(value) for name, value in stored["roles"].items()}
        user_cli = dict(stored["cli_tokens"])
    return Credentials(
        webhook_tokens={**stored["webhooks"], **webhook_tokens},
        users=users or stored["users"],
        signing_secrets={**stored.get("signing", {}), **(signing_secrets or {})},
        roles=user_roles,
        cli_tokens=user_cli,
        default_role=default_role,
    )


def _write(path: Path, stored: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(stored, f, indent=2)
    tmp.replace(path)


# Argon2id with the library's defaults (RFC 9106's second recommended option): a stolen
# store does not give the passwords away cheaply.
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("medic: no such user")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """The Argon2id hash to store for `password` (never the password itself)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def password_ok(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`; an unknown user (None) costs as much
    time as a known one, so the answer's timing does not tell which names exist."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
