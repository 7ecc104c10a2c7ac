"""The paging port: reach the on-call human when medic hands an incident over.

A page is keyed by the incident id (PagerDuty's `dedup_key`, Opsgenie's `alias`): a
repeated trigger is the same page, and resolving the incident resolves that page.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from medic.domain import Severity

__all__ = ["Page", "Pager"]


@dataclass(frozen=True)
class Page:
    incident_id: str  # the page's key at the vendor
    summary: str  # one line, what the person paged reads first
    severity: Severity
    source: str  # the service (and namespace) in trouble
    url: str  # the incident page
    details: Mapping[str, str] = field(default_factory=dict)


class Pager(Protocol):
    name: str  # "pagerduty", "opsgenie"

    def trigger(self, page: Page) -> None:
        """Open (or repeat) the page; TransientError may succeed later, PermanentError not."""
        ...

    def resolve(self, incident_id: str, note: str) -> None:
        """Close the page of `incident_id` (a page that is not open is no error)."""
        ...

    def health(self) -> str:
        """A one-line status, or a MedicError saying what is wrong; never pages anyone."""
        ...
