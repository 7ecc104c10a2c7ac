"""The PagerDuty and Opsgenie pagers over real HTTP, against a server speaking the
vendors' documented formats: one page per incident, resolved when the incident ends,
errors that say what went wrong, health checks that page no one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from medic.adapters.opsgenie import OpsgeniePager
from medic.adapters.pagerduty import PagerDutyPager
from medic.domain import PermanentError, Severity, TransientError
from medic.ports.paging import Page, Pager
from tests.paging_server import GENIE_KEY, ROUTING_KEY, FakePaging, fake_paging

PAGE = Page(
    incident_id="inc-42",
    summary="medic escalated: MemoryLeakSuspected on auth-service",
    severity=Severity.CRITICAL,
    source="auth-service (production)",
    url="http://medic.test/ui/incidents/inc-42",
    details={"why medic handed over": "diagnosis inconclusive (confidence 0.40)"},
)


@pytest.fixture
def vendor() -> Iterator[FakePaging]:
    with fake_paging() as fake:
        yield fake


def _pager(kind: str, vendor: FakePaging, key: str | None = None) -> Pager:
    if kind == "pagerduty":
        return PagerDutyPager(key or ROUTING_KEY, vendor.url)
    return OpsgeniePager(key or GENIE_KEY, vendor.url, responders=("sre",))


def _state(kind: str, vendor: FakePaging) -> dict[str, str]:
    alerts = vendor.pagerduty if kind == "pagerduty" else vendor.opsgenie
    return {key: str(alert["status"]) for key, alert in alerts.items()}


@pytest.mark.parametrize(
    ("kind", "opened", "closed"),
    [("pagerduty", "triggered", "resolved"), ("opsgenie", "open", "closed")],
)
def test_an_incident_pages_once_and_its_resolution_resolves_the_page(
    vendor: FakePaging, kind: str, opened: str, closed: str
) -> None:
    pager = _pager(kind, vendor)
    pager.trigger(PAGE)
    pager.trigger(PAGE)  # a step run again: the same page, not a second one
    assert _state(kind, vendor) == {"inc-42": opened}
    pager.resolve("inc-42", "every alert resolved")
    assert _state(kind, vendor) == {"inc-42": closed}


def test_pagerduty_gets_an_events_v2_trigger_with_the_incident_as_dedup_key(
    vendor: FakePaging,
) -> None:
    _pager("pagerduty", vendor).trigger(PAGE)
    alert = vendor.pagerduty["inc-42"]
    assert alert["payload"]["severity"] == "critical"
    assert alert["payload"]["summary"] == PAGE.summary
    assert alert["payload"]["custom_details"] == dict(PAGE.details)
    ((_, _, _, event),) = [r for r in vendor.requests if r[0] == "POST"]
    assert event["links"] == [{"href": PAGE.url, "text": "medic incident inc-42"}]


def test_opsgenie_gets_an_alert_with_alias_priority_and_the_genie_key(vendor: FakePaging) -> None:
    _pager("opsgenie", vendor).trigger(PAGE)
    alert = vendor.opsgenie["inc-42"]["alert"]
    assert (alert["priority"], alert["entity"]) == ("P1", "auth-service (production)")
    assert alert["responders"] == [{"name": "sre", "type": "team"}]
    assert alert["details"]["incident_url"] == PAGE.url
    (_, _, headers, _) = vendor.requests[-1]
    assert headers["authorization"] == f"GenieKey {GENIE_KEY}"


@pytest.mark.parametrize(
    ("kind", "why"),
    [("pagerduty", "refused (400)"), ("opsgenie", "refused (401)")],
)
def test_a_refused_key_is_a_permanent_error_saying_so(
    vendor: FakePaging, kind: str, why: str
) -> None:
    with pytest.raises(PermanentError, match=rf"paging incident inc-42: .* {re.escape(why)}"):
        _pager(kind, vendor, key="wrong").trigger(PAGE)
    assert _state(kind, vendor) == {}


@pytest.mark.parametrize("kind", ["pagerduty", "opsgenie"])
def test_a_vendor_outage_is_transient(vendor: FakePaging, kind: str) -> None:
    vendor.fail_with = 503
    with pytest.raises(TransientError, match="answered 503"):
        _pager(kind, vendor).trigger(PAGE)


@pytest.mark.parametrize("kind", ["pagerduty", "opsgenie"])
def test_an_unreachable_vendor_is_transient(kind: str) -> None:
    pager = (
        PagerDutyPager(ROUTING_KEY, "http://127.0.0.1:9")
        if kind == "pagerduty"
        else OpsgeniePager(GENIE_KEY, "http://127.0.0.1:9")
    )
    with pytest.raises(TransientError, match="cannot reach"):
        pager.trigger(PAGE)


def test_health_checks_page_no_one(vendor: FakePaging) -> None:
    assert "reachable" in _pager("pagerduty", vendor).health()
    assert "the key is accepted" in _pager("opsgenie", vendor).health()
    with pytest.raises(PermanentError, match="refused \\(401\\)"):
        _pager("opsgenie", vendor, key="wrong").health()
    assert (vendor.pagerduty, vendor.opsgenie) == ({}, {})
