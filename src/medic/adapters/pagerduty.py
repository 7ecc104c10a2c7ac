"""PagerDuty, through the Events API v2: a page per incident, resolved when it ends.

`POST {url}/v2/enqueue` with the integration's `routing_key`, `event_action` trigger or
resolve, and `dedup_key` = the incident id, so repeated triggers are one alert and the
resolve finds it. The API answers 202 `{"status": "success", "dedup_key": ...}`; 400
means an invalid event (its `errors` say why), 429 and 5xx are worth retrying.

The Events API has no call that checks a routing key without paging someone, so
`health()` only checks that the endpoint answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import TracebackType

import httpx

from medic.adapters.http_post import post_json, send
from medic.domain import Severity
from medic.domain.errors import PermanentError
from medic.ports.paging import Page

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyPager"]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITY = {Severity.CRITICAL: "critical", Severity.WARNING: "warning", Severity.INFO: "info"}
_SUMMARY_CHARS = 1024  # the API's limit
_KEY_CHARS = 255


class PagerDutyPager:
    name = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        url: str = DEFAULT_EVENTS_URL,
        *,
        timeout_seconds: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.routing_key = routing_key
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(base_url=self.url, timeout=timeout_seconds)

    def __enter__(self) -> PagerDutyPager:
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
        event = {
            "routing_key": self.routing_key,
            "event_action": "trigger",
            "dedup_key": page.incident_id[:_KEY_CHARS],
            "payload": {
                "summary": page.summary[:_SUMMARY_CHARS],
                "source": page.source,
                "severity": _SEVERITY[page.severity],
                "component": page.source,
                "custom_details": dict(page.details),
            },
            "links": [{"href": page.url, "text": f"medic incident {page.incident_id}"}],
            "client": "medic",
            "client_url": page.url,
        }
        self._enqueue(event, f"paging incident {page.incident_id}")

    def resolve(self, incident_id: str, note: str) -> None:
        event = {
            "routing_key": self.routing_key,
            "event_action": "resolve",
            "dedup_key": incident_id[:_KEY_CHARS],
        }
        self._enqueue(event, f"resolving the page of incident {incident_id}")

    def health(self) -> str:
        # Any HTTP answer (a 404 at /) means the endpoint is reachable.
        with contextlib.suppress(PermanentError):
            send(self.client, "GET", "/", "checking PagerDuty", self._system)
        return f"{self._system}: reachable (a routing key is only checked by a real event)"

    @property
    def _system(self) -> str:
        return f"PagerDuty Events API at {self.url}"

    def _enqueue(self, event: Mapping[str, object], what: str) -> None:
        response = post_json(self.client, "/v2/enqueue", event, what, self._system)
        try:
            status = response.json().get("status")
        except ValueError as e:
            raise PermanentError(f"{what}: {self._system} answered non-JSON") from e
        if status != "success":
            raise PermanentError(f"{what}: {self._system} answered status {status!r}")
