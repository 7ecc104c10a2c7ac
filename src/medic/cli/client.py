"""A small HTTP client of medic's own API, used by the CLI and the demo.

It authenticates with `client_token(settings)`: `MEDIC_TOKEN` (`token`) if set, else
the first admin's CLI token from the settings' `users` or the server's
`credentials.json` (what is done with a CLI token is recorded as the `cli` channel).
A refused token is a clear error: 401 names the token, 403 the role that was needed.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from medic.credentials import Credentials, load_or_create
from medic.domain import MedicError
from medic.settings import Settings

__all__ = ["ApiClient", "ApiError", "client_token"]

_HINTS = {
    401: "the API refused the CLI's token: set MEDIC_TOKEN (or `token` in medic.yaml) "
    "to a medic user's token",
    403: "the token's user may not do this; ask an admin for a user with that role",
}


def client_token(settings: Settings) -> str | None:
    """The token the CLI sends; reading it never creates a data directory."""
    if settings.token:
        return settings.token
    if settings.users:
        return Credentials(
            webhook_tokens={},
            users=settings.user_tokens,
            roles=settings.user_roles,
            cli_tokens=settings.user_cli_tokens,
            default_role=settings.auth.default_role,
        ).cli_token()
    if not settings.credentials_path.is_file():
        return None
    return load_or_create(settings.credentials_path, settings.webhook_tokens, {}).cli_token()


class ApiError(MedicError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, json: object = None) -> Any:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"cannot reach medic at {self.base_url} ({exc}); is `medic serve` running?"
            ) from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            hint = _HINTS.get(response.status_code)
            message = f"{detail} (HTTP {response.status_code})"
            raise ApiError(f"{message}; {hint}" if hint else message, response.status_code)
        return response.json()

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/healthz")
        return result

    def incidents(self, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/incidents?limit={limit}")
        return result

    def incident(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/incidents/{incident_id}")
        return result

    def decide(
        self,
        incident_id: str,
        verb: Literal["approve", "reject"],
        plan_hash: str,
        reason: str = "",
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            f"/incidents/{incident_id}/{verb}",
            json={"plan_hash": plan_hash, "reason": reason},
        )
        return result
