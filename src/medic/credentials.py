"""Bearer tokens: one per webhook source, one per human user.

Configured in settings (`webhook_tokens`, `users`); otherwise generated once into
`<data_dir>/credentials.json` (mode 0600) so that a fresh install is never open.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WEBHOOK_SOURCES", "Credentials", "load_or_create"]

WEBHOOK_SOURCES = ("alertmanager",)
DEFAULT_USER = "operator"


@dataclass(frozen=True)
class Credentials:
    webhook_tokens: dict[str, str]  # source -> token
    users: dict[str, str]  # user name -> token

    def webhook_ok(self, source: str, token: str) -> bool:
        expected = self.webhook_tokens.get(source)
        return expected is not None and hmac.compare_digest(expected, token)

    def user_for(self, token: str) -> str | None:
        for name, expected in self.users.items():
            if hmac.compare_digest(expected, token):
                return name
        return None

    def any_user_token(self) -> tuple[str, str] | None:
        return next(iter(self.users.items()), None)


def load_or_create(
    path: Path, webhook_tokens: dict[str, str], users: dict[str, str]
) -> Credentials:
    """Configured tokens win; missing ones come from (or are generated into) `path`."""
    stored: dict[str, dict[str, str]] = {"webhooks": {}, "users": {}}
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for source in WEBHOOK_SOURCES:
        if source not in webhook_tokens and source not in stored["webhooks"]:
            stored["webhooks"][source] = secrets.token_urlsafe(24)
            changed = True
    if not users and not stored["users"]:
        stored["users"][DEFAULT_USER] = secrets.token_urlsafe(24)
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(stored, f, indent=2)
        tmp.replace(path)
    return Credentials(
        webhook_tokens={**stored["webhooks"], **webhook_tokens},
        users=users or stored["users"],
    )
