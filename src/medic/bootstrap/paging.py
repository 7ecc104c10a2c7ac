"""The pagers, built from settings: PagerDuty and Opsgenie, each when configured."""

from __future__ import annotations

from medic.adapters.opsgenie import OpsgeniePager
from medic.adapters.pagerduty import PagerDutyPager
from medic.integrations import Integration
from medic.ports.paging import Pager
from medic.settings import Settings

__all__ = ["pager_integrations", "pagers"]


def pagers(settings: Settings) -> tuple[Pager, ...]:
    found: list[Pager] = []
    pd = settings.pagerduty
    if pd.routing_key:
        found.append(PagerDutyPager(pd.routing_key, pd.url, timeout_seconds=pd.timeout_seconds))
    og = settings.opsgenie
    if og.api_key:
        found.append(
            OpsgeniePager(
                og.api_key,
                og.url,
                responders=tuple(og.responders),
                timeout_seconds=og.timeout_seconds,
            )
        )
    return tuple(found)


def pager_integrations(settings: Settings) -> list[Integration]:
    """`medic doctor`'s check of each configured pager (none of them pages anyone)."""
    return [Integration(p.name, p.health, "paging") for p in pagers(settings)]
