"""Who is calling: bearer tokens per webhook source, and per human user with a role.

Every route but `/healthz` and the webhooks (which have their own source tokens or
HMAC signatures) names the least role it needs as a dependency: `Depends(viewer)`,
`Depends(approver)` or `Depends(admin)`. No token: 401; a valid token whose user's
role is too low: 403, naming the role needed. Without a token, a request from a
configured trusted proxy (`TrustedProxy`) is its named user's. The channel a decision is recorded
under comes from the credential used (`Principal.channel`), never from a header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medic.credentials import Credentials, TrustedProxy
from medic.domain import Approval, ApprovalDecision, ConflictError
from medic.domain.access import AuthChannel, Principal, Role
from medic.store.users import Users
from medic.web.routes import Decide

__all__ = [
    "admin",
    "approver",
    "approvers_only",
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


def require_role(
    request: Request, credentials: Credentials, role: Role, proxy: TrustedProxy | None = None
) -> Principal:
    """The caller, if its bearer token (or the trusted proxy) names a user whose role
    allows `role`."""
    token = bearer(request)
    if token is None:
        found = _proxied(request, proxy)
        if found is None:
            raise _unauthorized("missing bearer token (a medic user's token)")
    else:
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


def _proxied(request: Request, proxy: TrustedProxy | None) -> Principal | None:
    if proxy is None:
        return None
    peer = request.client.host if request.client else None
    named = proxy.user(peer, request.headers.get(proxy.header))
    return Principal(named[0], named[1], AuthChannel.API) if named else None


def _check(request: Request, role: Role) -> Principal:
    ctx = request.app.state.ctx
    return require_role(request, ctx.credentials, role, ctx.proxy)


def viewer(request: Request, _: _Declared) -> Principal:
    """Reads: incidents, signals, rejected webhooks, the audit log, the kill switch."""
    return _check(request, Role.VIEWER)


def approver(request: Request, _: _Declared) -> Principal:
    """Approving and rejecting plans."""
    return _check(request, Role.APPROVER)


def admin(request: Request, _: _Declared) -> Principal:
    """The kill switch: pausing and resuming every action."""
    return _check(request, Role.ADMIN)


def approvers_only(decide: Decide, credentials: Credentials, users: Users) -> Decide:
    """`decide` for a channel that names its user without a medic credential (Slack
    maps its accounts to medic users): the named user must be an approver. A name
    medic knows (a token user, else a password user) has that user's role; a name it
    does not know was granted by the channel's own mapping, an approver's."""

    def checked(
        incident_id: str,
        plan_hash: str,
        decision: ApprovalDecision,
        actor: str,
        channel: str,
        reason: str,
    ) -> Approval:
        if actor in credentials.users:
            role = credentials.role_of(actor)
        else:
            local = users.get(actor)
            role = local.role if local is not None else Role.APPROVER
        if not role.allows(Role.APPROVER):
            raise ConflictError(
                f"user '{actor}' has the role {role.value}; deciding needs approver"
            )
        return decide(incident_id, plan_hash, decision, actor, channel, reason)

    return checked
