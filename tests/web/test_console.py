"""The console around the incident page: the live list, live fragments, charts that keep
going past the diagnosis, the audit log and the kill switch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.domain import (
    Change,
    ChangeKind,
    Execution,
    ExecutionStatus,
    IncidentState,
    Plan,
    Point,
    Series,
    TimelineEntry,
    Verification,
    VerificationOutcome,
)
from medic.domain.cluster import MetricName
from medic.store import Store
from tests.web.conftest import CREDENTIALS, FixedClock, sign_in
from tests.web.seed import NOW, ONSET, StoreDecide, seed_incident

PAGE = "/ui/incidents/inc-web-1"
LIMIT = 1024 * 1024 * 1024.0


class FakeMetrics:
    """The watched system after the diagnosis: memory fell back to 300 MB at NOW + 5 min."""

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        if metric is MetricName.MEMORY_LIMIT_BYTES:
            return Series(metric.value, service, (Point(end.timestamp(), LIMIT),), unit="bytes")
        points = []
        t = start
        while t <= end:
            v = 300e6 if t >= NOW + timedelta(minutes=5) else 610e6
            points.append(Point(t.timestamp(), v))
            t += timedelta(seconds=max(step_seconds, 15.0))
        return Series(metric.value, service, tuple(points), unit="bytes")


class FakeChanges:
    def changes(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        return [Change(ChangeKind.DEPLOY, "auth-service", namespace, ONSET, version="v1.2.1")]


class LaterClock(FixedClock):
    def now(self) -> datetime:
        return NOW + timedelta(minutes=30)


@pytest.fixture
def console(store: Store, plan: Plan) -> Iterator[TestClient]:
    ctx = ApiContext(
        store,
        CREDENTIALS,
        LaterClock(),
        "http://medic.test",
        web_decide=StoreDecide(store),
        metrics=FakeMetrics(),
        changes=FakeChanges(),
    )
    with TestClient(create_app(ctx), follow_redirects=False) as c:
        sign_in(c)
        yield c


def _resolve(store: Store, plan: Plan) -> None:
    action = plan.immediate[0]
    at = NOW + timedelta(minutes=2)
    store.record_execution(
        "inc-web-1", Execution(action, "k1", ExecutionStatus.SUCCEEDED, at, at, "rolled back")
    )
    store.save_verification(
        "inc-web-1",
        Verification(VerificationOutcome.RECOVERED, NOW + timedelta(minutes=8), "memory back"),
    )
    store.set_state("inc-web-1", IncidentState.RESOLVED, NOW + timedelta(minutes=8))


def test_the_list_shows_whole_ids_age_and_filters(console: TestClient, store: Store) -> None:
    seed_incident(store, "inc-web-2", title="Latency on catalog")
    store.set_state("inc-web-2", IncidentState.RESOLVED, NOW)
    page = console.get("/ui").text
    assert '<a href="/ui/incidents/inc-web-1">inc-web-1</a>' in page
    assert "40 min" in page  # opened 10 min before NOW, the clock is 30 min later
    for name in ("status", "severity", "service", "q"):
        assert f'name="{name}"' in page
    assert 'id="f-q"' in page and "<label>Search" in page  # labelled controls

    only = console.get("/ui?status=resolved").text
    assert "inc-web-2" in only and "inc-web-1</a>" not in only
    found = console.get("/ui?q=catalog").text
    assert "inc-web-2" in found and "inc-web-1</a>" not in found


def test_the_list_rows_come_as_json_for_a_session_only(console: TestClient, store: Store) -> None:
    live = console.get("/ui/incidents.json?status=awaiting_approval")
    assert live.status_code == 200
    assert "inc-web-1" in live.json()["rows"]
    assert live.json()["note"].startswith("1 of 1 shown")
    seed_incident(store, "inc-web-3", title="Errors on users")  # appears without a reload
    assert "inc-web-3" in console.get("/ui/incidents.json").json()["rows"]
    console.cookies.clear()
    assert console.get("/ui/incidents.json").status_code == 401
    assert console.get(f"{PAGE}/live").status_code == 401


def test_the_plan_comes_before_the_decision(console: TestClient) -> None:
    page = console.get(PAGE).text
    assert page.index('id="plan"') < page.index('id="decide"') < page.index('id="approve"')
    assert page.index('id="charts"') < page.index('id="plan"')
    assert "≤ 381 MiB" in page  # the verification bound with its unit, not 4e+08


def test_after_approval_the_live_fragments_show_the_new_state(
    console: TestClient, store: Store, plan: Plan
) -> None:
    before = console.get(f"{PAGE}/live").json()
    assert before["state"] == "awaiting_approval"
    assert 'id="approve"' in before["sections"]["decision"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', console.get(PAGE).text)
    assert csrf
    console.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": csrf[1]})
    store.set_state("inc-web-1", IncidentState.EXECUTING, NOW + timedelta(minutes=1))

    during = console.get(f"{PAGE}/live").json()
    assert during["version"] != before["version"]
    assert during["state"] == "executing"
    decision = during["sections"]["decision"]
    assert 'id="approve"' not in decision
    assert "Approved by <b>operator</b>" in decision
    assert "executing: rollout_undo auth-service" in decision
    assert "executing" in during["sections"]["head"]

    _resolve(store, plan)
    done = console.get(f"{PAGE}/live").json()
    assert done["terminal"] is True
    assert 'data-state="resolved"' in done["sections"]["decision"]
    assert "Resolved" in done["sections"]["banner"]


def test_an_escalated_incident_says_why(console: TestClient, store: Store) -> None:
    store.add_timeline(
        "inc-web-1",
        TimelineEntry(NOW, "incident", "escalated: kill switch: paused by alice"),
    )
    store.set_state("inc-web-1", IncidentState.ESCALATED, NOW)
    page = console.get(PAGE).text
    banner = re.search(r'<div class="flash bad banner" id="why-escalated".*?</div>', page, re.S)
    assert banner and "Why: kill switch: paused by alice" in banner[0]


def test_the_chart_has_units_a_time_axis_the_limit_and_the_moments(
    console: TestClient, store: Store, plan: Plan
) -> None:
    csrf = re.search(r'name="csrf" value="([^"]+)"', console.get(PAGE).text)
    assert csrf
    console.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": csrf[1]})
    _resolve(store, plan)
    charts = console.get(f"{PAGE}/live?charts=1").json()["charts"]
    svg = re.search(r'<figure class="panel".*?</figure>', charts, re.S)
    assert svg, charts[:500]
    chart = svg[0]
    ticks = re.findall(r'<text class="ytick"[^>]*>([^<]+)</text>', chart)
    assert ticks and all(t.endswith(" MiB") or t.endswith(" GiB") for t in ticks), ticks
    times = re.findall(r'<text class="xtick"[^>]*>([^<]+)</text>', chart)
    assert "11:00" in times and "12:00" in times  # round hours of the window
    assert "time (UTC)" in chart
    assert 'class="limit"' in chart and "limit 1.00 GiB" in chart
    assert "deploy auth-service v1.2.1" in chart
    assert "approved by operator" in chart
    assert "rollout_undo auth-service" in chart
    assert "recovered" in chart
    # continued through the verification: the last value is the recovered one
    assert "latest 286 MiB" in chart
    hover = re.search(r'data-points="([^"]+)"', chart)
    assert hover and "286 MiB" in hover[1].replace("&quot;", '"')


def test_the_audit_page_lists_the_chain_and_the_kill_switch_pauses(
    console: TestClient, store: Store
) -> None:
    page = console.get("/ui/control").text
    assert 'id="pause"' in page and "may act within the policy" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    forged = console.post("/ui/control/pause", data={"csrf": "forged", "reason": "x"})
    assert forged.status_code == 403 and not store.control.pause_state().paused

    done = console.post("/ui/control/pause", data={"csrf": csrf[1], "reason": "game day"})
    assert done.status_code == 303
    state = store.control.pause_state()
    assert (state.paused, state.actor, state.reason) == (True, "operator", "game day")
    paused = console.get("/ui/control").text
    assert 'id="resume"' in paused and "paused by <b>operator</b>" in paused

    audit = console.get("/ui/audit").text
    assert "Chain verified: 1 entries intact." in audit
    assert "game day" in audit and "paused" in audit


def test_the_console_script_is_served_by_medic(console: TestClient) -> None:
    script = console.get("/ui/static/console.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/live" in script.text and "http" not in script.text.replace("HTTP ", "")
