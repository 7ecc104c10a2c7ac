"""Who is calling: bearer tokens per webhook source, and per human user with a role.

Every route but `/healthz` and the webhooks (which have their own source tokens or
HMAC signatures) names the least role it needs as a dependency: `Depends(viewer)`,
`Depends(approver)` or `Depends(admin)`. No token: 401; a valid token whose user's
role is too low: 403, naming the role needed. The channel a decision is recorded
under comes from the credential used (`Principal.channel`), never from a header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medic.credentials import Credentials
from medic.domain.access import Principal, Role

__all__ = [
    "admin",
    "approver",
    "bearer",
    "require_role",
    "require_user",
    "require_webhook",
    "viewer",
]

# Declares the scheme in the OpenAPI schema (the docs' "Authorize" button); checking
# the token is ours, so that a missing one is a 401 rather than FastAPI's 403.
_SCHEME = HTTPBearer(auto_error=False, description="a medic user's token (or CLI token)")
_Declared = Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require_webhook(request: Request, credentials: Credentials, source: str) -> None:
    token = bearer(request)
    if token is None:
        raise _unauthorized(f"webhook '{source}': missing bearer token")
    if not credentials.webhook_ok(source, token):
        raise _unauthorized(f"webhook '{source}': invalid bearer token")


def require_role(request: Request, credentials: Credentials, role: Role) -> Principal:
    """The caller, if its bearer token is a user's whose role allows `role`."""
    token = bearer(request)
    if token is None:
        raise _unauthorized("missing bearer token (a medic user's token)")
    found = credentials.principal(token)
    if found is None:
        raise _unauthorized("invalid bearer token")
    if not found.role.allows(role):
        raise HTTPException(
            403, f"user '{found.name}' has the role {found.role.value}; this needs {role.value}"
        )
    return found


def require_user(request: Request, credentials: Credentials) -> str:
    """Any authenticated user (a viewer at least); its name."""
    return require_role(request, credentials, Role.VIEWER).name


def _credentials(request: Request) -> Credentials:
    found: Credentials = request.app.state.ctx.credentials
    return found


def viewer(request: Request, _: _Declared) -> Principal:
    """Reads: incidents, signals, rejected webhooks, the audit log, the kill switch."""
    return require_role(request, _credentials(request), Role.VIEWER)


def approver(request: Request, _: _Declared) -> Principal:
    """Approving and rejecting plans."""
    return require_role(request, _credentials(request), Role.APPROVER)


def admin(request: Request, _: _Declared) -> Principal:
    """The kill switch: pausing and resuming every action."""
    return require_role(request, _credentials(request), Role.ADMIN)
