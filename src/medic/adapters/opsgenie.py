"""Opsgenie, through the Alert API: an alert per incident, closed when it ends.

`POST {url}/v2/alerts` with `alias` = the incident id (Opsgenie keeps one open alert per
alias, so a repeated create is the same alert), and `POST /v2/alerts/{alias}/close
?identifierType=alias`; both authenticate with `Authorization: GenieKey <key>` and are
answered 202 `{"result": "Request will be processed", "requestId": ...}` (the work is
asynchronous). `health()` lists one alert (`GET /v2/alerts?limit=1`): it checks the key
without paging anyone. EU accounts use https://api.eu.opsgenie.com.
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import quote

import httpx

from medic.adapters.http_post import post_json, send
from medic.domain import Severity
from medic.ports.paging import Page

__all__ = ["DEFAULT_API_URL", "OpsgeniePager"]

DEFAULT_API_URL = "https://api.opsgenie.com"
_PRIORITY = {Severity.CRITICAL: "P1", Severity.WARNING: "P3", Severity.INFO: "P5"}
_MESSAGE_CHARS = 130  # the API's limits
_ALIAS_CHARS = 512
_DESCRIPTION_CHARS = 15000


class OpsgeniePager:
    name = "opsgenie"

    def __init__(
        self,
        api_key: str,
        url: str = DEFAULT_API_URL,
        *,
        responders: tuple[str, ...] = (),
        timeout_seconds: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.responders = responders
        self.client = client or httpx.Client(
            base_url=self.url,
            timeout=timeout_seconds,
            headers={"Authorization": f"GenieKey {api_key}"},
        )

    def __enter__(self) -> OpsgeniePager:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def trigger(self, page: Page) -> None:
        description = "\n".join(
            [page.summary, f"Incident: {page.url}"] + [f"{k}: {v}" for k, v in page.details.items()]
        )
        alert: dict[str, object] = {
            "message": page.summary[:_MESSAGE_CHARS],
            "alias": page.incident_id[:_ALIAS_CHARS],
            "description": description[:_DESCRIPTION_CHARS],
            "source": "medic",
            "entity": page.source,
            "priority": _PRIORITY[page.severity],
            "details": {**page.details, "incident_url": page.url},
            "tags": ["medic"],
        }
        if self.responders:
            alert["responders"] = [{"name": team, "type": "team"} for team in self.responders]
        what = f"paging incident {page.incident_id}"
        post_json(self.client, "/v2/alerts", alert, what, self._system)

    def resolve(self, incident_id: str, note: str) -> None:
        alias = quote(incident_id[:_ALIAS_CHARS], safe="")
        post_json(
            self.client,
            f"/v2/alerts/{alias}/close",
            {"source": "medic", "note": note[:_DESCRIPTION_CHARS]},
            f"closing the alert of incident {incident_id}",
            self._system,
            params={"identifierType": "alias"},
        )

    def health(self) -> str:
        send(
            self.client,
            "GET",
            "/v2/alerts",
            "checking the Opsgenie key",
            self._system,
            params={"limit": "1"},
        )
        return f"{self._system}: the key is accepted"

    @property
    def _system(self) -> str:
        return f"Opsgenie at {self.url}"
