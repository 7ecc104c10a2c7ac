"""An escalated incident pages whoever is configured (PagerDuty, Opsgenie, over real
HTTP to a fake of their APIs); the end of the incident resolves the page; a pager
that fails never stops the incident."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from medic.adapters.opsgenie import OpsgeniePager
from medic.adapters.pagerduty import PagerDutyPager
from medic.domain import IncidentState, Severity
from medic.store import Store
from medic.workflows import incident as incident_workflow
from medic.workflows.context import deps, install, uninstall
from medic.workflows.paging_steps import resolve_page
from tests.paging_server import GENIE_KEY, ROUTING_KEY, FakePaging, fake_paging
from tests.store import builders
from tests.workflows.sandbox_deps import install_sandbox_deps


@pytest.fixture
def vendor(store: Store, tmp_path: Path) -> Iterator[FakePaging]:
    install_sandbox_deps(store, tmp_path)
    store.create_incident(
        replace(
            builders.incident(),
            id="inc-7",
            title="HighErrorRate on checkout",
            service="checkout",
            namespace="shop",
            severity=Severity.CRITICAL,
        )
    )
    with fake_paging() as fake:
        pagers = (PagerDutyPager(ROUTING_KEY, fake.url), OpsgeniePager(GENIE_KEY, fake.url))
        install(replace(deps(), pagers=pagers, base_url="http://medic.test"))
        yield fake
    uninstall()


def _pages(store: Store) -> list[str]:
    return [e.message for e in store.timeline("inc-7") if e.kind == "page"]


def test_an_escalated_incident_pages_and_its_end_resolves_the_page(
    store: Store, vendor: FakePaging
) -> None:
    incident_workflow._close("inc-7", IncidentState.ESCALATED, "diagnosis inconclusive")
    assert store.get_incident("inc-7").state is IncidentState.ESCALATED
    assert vendor.pagerduty["inc-7"]["status"] == "triggered"
    payload = vendor.pagerduty["inc-7"]["payload"]
    assert payload["summary"] == "medic escalated: HighErrorRate on checkout"
    assert payload["custom_details"]["why medic handed over"] == "diagnosis inconclusive"
    alert = vendor.opsgenie["inc-7"]
    assert alert["status"] == "open"
    assert alert["alert"]["details"]["incident_url"] == "http://medic.test/ui/incidents/inc-7"
    assert _pages(store) == [
        "paged pagerduty: medic escalated: HighErrorRate on checkout",
        "paged opsgenie: medic escalated: HighErrorRate on checkout",
    ]
    resolve_page("inc-7", "every alert resolved")
    assert vendor.pagerduty["inc-7"]["status"] == "resolved"
    assert vendor.opsgenie["inc-7"]["status"] == "closed"
    assert _pages(store)[2:] == [
        "pagerduty page resolved: every alert resolved",
        "opsgenie page resolved: every alert resolved",
    ]


def test_an_incident_medic_resolves_itself_pages_no_one(store: Store, vendor: FakePaging) -> None:
    incident_workflow._close("inc-7", IncidentState.RESOLVED, "recovered after 240s")
    assert (vendor.pagerduty, vendor.opsgenie) == ({}, {})
    assert _pages(store) == []


def test_a_pager_that_fails_is_noted_and_the_incident_still_ends(
    store: Store, vendor: FakePaging
) -> None:
    vendor.fail_with = 503
    state = incident_workflow._close("inc-7", IncidentState.ESCALATED, "action failed")
    assert state == "escalated"
    assert store.get_incident("inc-7").state is IncidentState.ESCALATED
    pages = _pages(store)
    assert len(pages) == 2
    assert all(" failed: " in p and "answered 503" in p for p in pages)
    assert any(e.kind == "postmortem" for e in store.timeline("inc-7"))
