"""Bearer-token authentication: per webhook source, and per human user."""

from __future__ import annotations

from fastapi import HTTPException, Request

from medic.credentials import Credentials

__all__ = ["bearer", "require_user", "require_webhook"]


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


def require_user(request: Request, credentials: Credentials) -> str:
    token = bearer(request)
    if token is None:
        raise _unauthorized("missing bearer token")
    user = credentials.user_for(token)
    if user is None:
        raise _unauthorized("invalid bearer token")
    return user
