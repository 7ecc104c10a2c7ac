"""A small HTTP client of medic's own API, used by the CLI and the demo."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from medic.domain import MedicError

__all__ = ["ApiClient", "ApiError"]


class ApiError(MedicError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, token: str | None, channel: str = "cli") -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"X-Medic-Channel": channel}
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
            raise ApiError(f"{detail} (HTTP {response.status_code})", response.status_code)
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
