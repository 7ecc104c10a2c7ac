"""What `medic serve` says when it starts: the mode, each source, the UI, the token."""

from __future__ import annotations

from medic.bootstrap.watched import Watched
from medic.credentials import Credentials
from medic.settings import Settings

__all__ = ["banner", "mode_of"]

_ROLES = ("metrics", "logs", "changes", "cluster", "executor")


def mode_of(settings: Settings) -> str:
    if settings.uses_sandbox:
        return "sandbox (a simulated cluster; no real system is watched)"
    if settings.kubernetes.enabled:
        return "kubernetes (watch, diagnose, act after approval); no sandbox"
    return "diagnose-and-propose (no cluster, no executor); no sandbox"


def banner(settings: Settings, world: Watched, credentials: Credentials) -> str:
    """Plain lines; never a token itself, only where it is."""
    lines = [f"medic serve: mode {mode_of(settings)}"]
    lines += [f"  {role + ':':<10}{world.sources.get(role, 'none')}" for role in _ROLES]
    lines.append(f"  {'UI:':<10}{settings.effective_api_url}/ui")
    if settings.users:
        where = "the users setting (users.<name>)"
    else:
        user = credentials.any_user_token()
        name = user[0] if user else "operator"
        where = f"{settings.credentials_path} (users.{name})"
    lines.append(f"  {'sign-in:':<10}token in {where}")
    hooks = f"{settings.effective_api_url}/webhooks/alertmanager"
    lines.append(f"  {'alerts:':<10}{hooks} (token: webhooks.alertmanager, same file)")
    return "\n".join(lines)
