"""Bearer tokens: one per webhook source, one per human user; HMAC signing secrets.

Tokens are configured in settings (`webhook_tokens`, `users`); otherwise generated once
into `<data_dir>/credentials.json` (mode 0600) so that a fresh install is never open.
Signing secrets (`{"signing": {source: secret}}` in that file, or passed in) are never
generated: a source with one must sign every request (HMAC-SHA256 of the body, or of
`timestamp:body`), and its bearer token is then not needed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SIGNATURE_MAX_AGE_SECONDS", "WEBHOOK_SOURCES", "Credentials", "load_or_create"]

WEBHOOK_SOURCES = ("alertmanager", "grafana", "datadog", "generic")
DEFAULT_USER = "operator"
# A signed timestamp older (or further ahead) than this is a replay, not a delivery.
SIGNATURE_MAX_AGE_SECONDS = 300.0


@dataclass(frozen=True)
class Credentials:
    webhook_tokens: dict[str, str]  # source -> token
    users: dict[str, str]  # user name -> token
    signing_secrets: dict[str, str] = field(default_factory=dict)  # source -> HMAC secret

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
        for name, expected in self.users.items():
            if hmac.compare_digest(expected, token):
                return name
        return None

    def any_user_token(self) -> tuple[str, str] | None:
        return next(iter(self.users.items()), None)


def load_or_create(
    path: Path,
    webhook_tokens: dict[str, str],
    users: dict[str, str],
    signing_secrets: dict[str, str] | None = None,
) -> Credentials:
    """Configured tokens win; missing ones come from (or are generated into) `path`."""
    stored: dict[str, dict[str, str]] = {"webhooks": {}, "users": {}}
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored.setdefault("webhooks", {})
        stored.setdefault("users", {})
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
        signing_secrets={**stored.get("signing", {}), **(signing_secrets or {})},
    )
