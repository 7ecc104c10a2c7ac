"""Browser sessions: a signed cookie naming the user, its expiry and its CSRF token.

The signing key is derived from the users' API tokens (`session_key`), so no new secret
has to be stored, nobody without a token can forge a session, and rotating the tokens
signs everybody out. The cookie is HttpOnly and SameSite=Strict; each form also carries
the session's CSRF token, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from medic.credentials import Credentials

__all__ = ["COOKIE", "Session", "new_session", "open_session", "seal", "session_key"]

COOKIE = "medic_session"


@dataclass(frozen=True)
class Session:
    user: str
    expires: float  # Unix seconds
    csrf: str

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), token.encode())


def session_key(credentials: Credentials) -> bytes:
    material = json.dumps(sorted(credentials.users.items()), separators=(",", ":"))
    return hmac.new(b"medic web session v1", material.encode(), hashlib.sha256).digest()


def new_session(user: str, now: float, lifetime: float) -> Session:
    return Session(user=user, expires=now + lifetime, csrf=secrets.token_urlsafe(24))


def seal(session: Session, key: bytes) -> str:
    body = json.dumps({"u": session.user, "e": session.expires, "c": session.csrf})
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(payload, key)}"


def open_session(cookie: str | None, key: bytes, now: float, users: Credentials) -> Session | None:
    """The session in `cookie` if its signature holds, it has not expired and its user
    still exists; None otherwise (the caller then asks the browser to sign in)."""
    if not cookie or "." not in cookie:
        return None
    payload, _, mac = cookie.rpartition(".")
    if not hmac.compare_digest(_mac(payload, key), mac):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(user=str(data["u"]), expires=float(data["e"]), csrf=str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires <= now or session.user not in users.users:
        return None
    return session


def _mac(payload: str, key: bytes) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
