"""The API client's calls for the kill switch and the audit log (`medic pause`, ...)."""

from __future__ import annotations

from typing import Any

from medic.cli.client import ApiClient

__all__ = ["ControlClient"]


class ControlClient(ApiClient):
    def control(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/control")
        return result

    def pause(self, reason: str = "") -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/control/pause", json={"reason": reason})
        return result

    def resume(self, reason: str = "") -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/control/resume", json={"reason": reason})
        return result

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/audit?limit={limit}")
        return result
