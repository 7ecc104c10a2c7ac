"""Signing in to the UI: with a name and password (a local user, `medic users add`), or
with a user's token; the sign-in page; and who a session's user is now.

Behind a trusted reverse proxy (`TrustedProxy`) the proxy's header names the user:
no sign-in form, no cookie; each request is its own session, with a CSRF token
derived from the session key and the user (the forms still carry it).

Local users live in the store (`Store.users`, Argon2id hashes); token users in the
settings or `credentials.json`. The two are separate identities even if a name is in
both: a session records how it signed in, and its role comes from that source, read
again on every request.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

from medic.credentials import Credentials, TrustedProxy, password_ok
from medic.domain.access import Role
from medic.store.users import Users
from medic.web.html import Markup, esc
from medic.web.session import Session, SignIn, password_fingerprint

__all__ = ["Desk", "SignedIn", "render_signin"]

MAX_NAME = 64
MAX_SECRET = 1024  # longer is not a password or a token anybody typed


@dataclass(frozen=True)
class SignedIn:
    user: str
    via: SignIn
    fingerprint: str = ""


class Desk:
    """Checks sign-in forms and resolves sessions' roles."""

    def __init__(self, credentials: Credentials, users: Users) -> None:
        self.credentials = credentials
        self.users = users

    def sign_in(self, form: dict[str, str]) -> SignedIn | None:
        """The user the form proves, or None (the same answer whatever was wrong)."""
        name = form.get("username", "").strip()
        if name:
            return self._password(name, form.get("password", ""))
        token = form.get("token", "").strip()
        if not token or len(token) > MAX_SECRET:
            return None
        found = self.credentials.principal(token)
        # A CLI token signs in like its user's token: the session is the web channel.
        return SignedIn(found.name, SignIn.TOKEN) if found is not None else None

    def _password(self, name: str, password: str) -> SignedIn | None:
        if len(name) > MAX_NAME or not password or len(password) > MAX_SECRET:
            return None
        user = self.users.get(name)
        if not password_ok(user.password_hash if user else None, password) or user is None:
            return None
        return SignedIn(user.name, SignIn.PASSWORD, password_fingerprint(user.password_hash))

    def proxied(
        self, request: Request, proxy: TrustedProxy, key: bytes, now: float
    ) -> Session | None:
        """The session of the user the trusted proxy names, if the request is its."""
        peer = request.client.host if request.client else None
        named = proxy.user(peer, request.headers.get(proxy.header))
        if named is None:
            return None
        csrf = hmac.new(key, f"proxy csrf\0{named[0]}".encode(), hashlib.sha256).hexdigest()
        return Session(named[0], now + 60.0, csrf, SignIn.PROXY, role=named[1])

    def resolve(self, session: Session) -> Role | None:
        """The session's user's role now; None if it is gone or its password changed."""
        if session.via is SignIn.TOKEN:
            if session.user not in self.credentials.users:
                return None
            return self.credentials.role_of(session.user)
        if session.via is SignIn.PASSWORD:
            user = self.users.get(session.user)
            if user is None or password_fingerprint(user.password_hash) != session.fingerprint:
                return None
            return user.role
        return None


def render_signin(next_path: str, error: str = "") -> Markup:
    problem = f'<div class="flash bad" role="alert">{esc(error)}</div>' if error else ""
    hidden = f'<input type="hidden" name="next" value="{esc(next_path)}">'
    return Markup(
        '<section class="card login"><h1>Sign in to medic</h1>'
        f'{problem}<form method="post" action="/ui/login">{hidden}'
        '<label for="username">Name</label>'
        '<input id="username" name="username" autocomplete="username" autofocus '
        f'maxlength="{MAX_NAME}">'
        '<label for="password">Password</label>'
        '<input id="password" type="password" name="password" autocomplete="current-password">'
        '<button class="approve" type="submit">Sign in</button></form>'
        "<details><summary>Sign in with a token instead</summary>"
        "<p class=muted>Your medic API token (the one the CLI uses; see <code>users</code> "
        "in the settings or <code>credentials.json</code>).</p>"
        f'<form method="post" action="/ui/login">{hidden}'
        '<label for="token">Token</label>'
        '<input id="token" type="password" name="token" autocomplete="off">'
        '<button class="approve" type="submit">Sign in with the token</button></form>'
        "</details></section>"
    )
