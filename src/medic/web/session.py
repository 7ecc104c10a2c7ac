"""Browser sessions: a signed cookie naming the user, how it signed in, its expiry and
its CSRF token.

The signing key is derived from the users' API tokens (`session_key`), so no new secret
has to be stored, nobody without a token can forge a session, and rotating the tokens
signs everybody out. The cookie is HttpOnly and SameSite=Strict; each form also carries
the session's CSRF token, compared in constant time.

A session holds no role: the role is looked up on every request (`Resolve`), so a user
removed or demoted loses the session's rights at once. A password session also carries
a fingerprint of the password's hash: changing the password signs that user out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from medic.credentials import Credentials
from medic.domain.access import Role

__all__ = [
    "COOKIE",
    "Resolve",
    "Session",
    "SignIn",
    "new_session",
    "open_session",
    "password_fingerprint",
    "seal",
    "session_key",
]

COOKIE = "medic_session"


class SignIn(StrEnum):
    """How the session's user proved who it is."""

    TOKEN = "token"
    PASSWORD = "password"
    PROXY = "proxy"


@dataclass(frozen=True)
class Session:
    user: str
    expires: float  # Unix seconds
    csrf: str
    via: SignIn = SignIn.TOKEN
    fingerprint: str = ""  # of the password hash, for a password session
    role: Role = Role.VIEWER  # filled in by `open_session`, never read from the cookie

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), token.encode())

    def allows(self, role: Role) -> bool:
        return self.role.allows(role)


# (session as sealed, without its role) -> the user's role now, or None: no session
Resolve = Callable[[Session], Role | None]


def session_key(credentials: Credentials) -> bytes:
    material = json.dumps(sorted(credentials.users.items()), separators=(",", ":"))
    return hmac.new(b"medic web session v1", material.encode(), hashlib.sha256).digest()


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def new_session(
    user: str,
    now: float,
    lifetime: float,
    via: SignIn = SignIn.TOKEN,
    fingerprint: str = "",
) -> Session:
    return Session(
        user=user,
        expires=now + lifetime,
        csrf=secrets.token_urlsafe(24),
        via=via,
        fingerprint=fingerprint,
    )


def seal(session: Session, key: bytes) -> str:
    body = json.dumps(
        {
            "u": session.user,
            "e": session.expires,
            "c": session.csrf,
            "v": session.via.value,
            "f": session.fingerprint,
        }
    )
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(payload, key)}"


def open_session(
    cookie: str | None, key: bytes, now: float, resolve: Resolve | Credentials
) -> Session | None:
    """The session in `cookie` if its signature holds, it has not expired and its user
    still has a role (`resolve`; with Credentials: a token user's); None otherwise
    (the caller then asks the browser to sign in)."""
    if not cookie or "." not in cookie:
        return None
    payload, _, mac = cookie.rpartition(".")
    if not hmac.compare_digest(_mac(payload, key), mac):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(
            user=str(data["u"]),
            expires=float(data["e"]),
            csrf=str(data["c"]),
            via=SignIn(data.get("v", SignIn.TOKEN.value)),
            fingerprint=str(data.get("f", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if session.expires <= now:
        return None
    role = _token_role(resolve, session) if isinstance(resolve, Credentials) else resolve(session)
    return replace(session, role=role) if role is not None else None


def _token_role(credentials: Credentials, session: Session) -> Role | None:
    if session.via is not SignIn.TOKEN or session.user not in credentials.users:
        return None
    return credentials.role_of(session.user)


def _mac(payload: str, key: bytes) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
