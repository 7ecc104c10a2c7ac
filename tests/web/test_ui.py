"""The web UI: sign-in, the incident page (escaped, with its chart), approve and reject."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from medic.action.audit import approval_entry
from medic.domain import Approval, ApprovalDecision, Plan
from medic.domain.audit import FIRST_APPROVAL
from medic.store import Store
from medic.web.charts import _LEFT, _RIGHT, _W
from tests.web.conftest import TOKEN, sign_in, ui_app
from tests.web.seed import INJECTION, NOW, ONSET, StoreDecide

PAGE = "/ui/incidents/inc-web-1"


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(PAGE).text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_every_page_needs_a_session_and_a_post_decides_nothing(
    client: TestClient, decide: StoreDecide, plan: Plan
) -> None:
    for path in ("/ui", PAGE, f"{PAGE}/postmortem"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login?next=")
    response = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": "x"})
    assert response.status_code == 303
    assert decide.calls == []


def test_sign_in_sets_a_strict_http_only_cookie_and_a_wrong_token_gets_none(
    client: TestClient,
) -> None:
    wrong = client.post("/ui/login", data={"token": "nope", "next": PAGE})
    assert wrong.status_code == 401
    assert "belongs to no medic user" in wrong.text
    assert "set-cookie" not in wrong.headers

    right = client.post("/ui/login", data={"token": TOKEN, "next": PAGE})
    assert right.status_code == 303
    assert right.headers["location"] == PAGE
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
    assert client.get(PAGE).status_code == 200


def test_sign_in_never_redirects_off_the_ui(client: TestClient) -> None:
    response = client.post("/ui/login", data={"token": TOKEN, "next": "https://evil.example/"})
    assert response.headers["location"] == "/ui"


def test_a_tampered_session_cookie_is_not_a_session(client: TestClient) -> None:
    sign_in(client)
    cookie = client.cookies["medic_session"]
    payload, mac = cookie.rsplit(".", 1)
    client.cookies.clear()

    def with_cookie(value: str) -> int:
        return client.get("/ui", headers={"cookie": f"medic_session={value}"}).status_code

    assert with_cookie(cookie) == 200
    assert with_cookie(f"{payload}.{mac[::-1]}") == 303
    assert with_cookie(f"{payload[:-2]}xx.{mac}") == 303


def test_untrusted_text_is_escaped_and_no_script_can_run(client: TestClient) -> None:
    sign_in(client)
    for path in ("/ui", PAGE):
        response = client.get(path)
        assert response.status_code == 200
        assert INJECTION not in response.text
        # The one script is medic's own file; nothing inline, nothing from elsewhere.
        scripts = re.findall(r"<script[^>]*>", response.text)
        assert scripts == ['<script src="/ui/static/console.js" defer>'], scripts
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    page = client.get(PAGE).text
    assert "catalog deploy &lt;b&gt;rejected&lt;/b&gt;" in page  # rejected alternatives
    assert "log line: &lt;script&gt;" in page  # the evidence table
    # The source's graph of a query is a link; a non-http URL from the watched system is not.
    assert '<a href="http://prometheus:9090/graph?g0.expr=memory&amp;x=&lt;b&gt;"' in page
    assert "javascript:" not in page


def test_the_page_shows_the_plan_its_hash_and_the_exact_command(
    client: TestClient, plan: Plan
) -> None:
    sign_in(client)
    page = client.get(PAGE).text
    assert "kubectl rollout undo deployment/auth-service -n production" in page
    assert plan.hash in page
    assert f'name="plan_hash" value="{plan.hash}"' in page
    assert 'id="approve"' in page and 'id="reject"' in page


def test_the_chart_shades_the_anomaly_window_from_the_onset(client: TestClient) -> None:
    sign_in(client)
    page = client.get(PAGE).text
    svg = re.search(r'<svg class="chart".*?</svg>', page, re.S)
    assert svg, "no chart"
    anomaly = re.search(r'<rect class="anomaly" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg[0])
    assert anomaly, "no shaded anomaly window"
    # The seeded series spans 12:00 - 2 h .. 12:00 - 15 s; the onset is at 11:20.
    t0 = (ONSET.timestamp() - 80 * 60) / 1
    t1 = t0 + 479 * 15
    plot = _W - _LEFT - _RIGHT
    expected = _LEFT + (ONSET.timestamp() - t0) / (t1 - t0) * plot
    x, width = float(anomaly[1]), float(anomaly[2])
    assert abs(x - expected) < 1.0
    assert abs(x + width - (_LEFT + plot)) < 1.0  # shaded up to the latest point
    assert "onset 11:20" in svg[0]
    assert 'class="threshold"' in svg[0]  # the recovery bound the plan verifies


def test_approve_needs_the_session_csrf_token(
    client: TestClient, decide: StoreDecide, plan: Plan, store: Store
) -> None:
    sign_in(client)
    forged = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": "forged"})
    assert forged.status_code == 403
    assert decide.calls == []

    ok = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": _csrf(client)})
    assert ok.status_code == 303
    assert ok.headers["location"] == f"{PAGE}?done=approved"
    [approval] = store.approvals("inc-web-1")
    assert (approval.decision, approval.actor, approval.channel) == (
        ApprovalDecision.APPROVED,
        "operator",
        "web",
    )
    after = client.get(ok.headers["location"]).text
    assert "Plan approved" in after
    assert 'id="approve"' not in after  # nothing left to decide


def test_reject_needs_a_reason_which_is_recorded(
    client: TestClient, plan: Plan, store: Store
) -> None:
    sign_in(client)
    token = _csrf(client)
    empty = client.post(
        f"{PAGE}/reject", data={"plan_hash": plan.hash, "csrf": token, "reason": "  "}
    )
    assert empty.status_code == 422
    assert "needs a reason" in empty.text
    assert store.approvals("inc-web-1") == []

    done = client.post(
        f"{PAGE}/reject", data={"plan_hash": plan.hash, "csrf": token, "reason": "peak hour"}
    )
    assert done.status_code == 303
    [approval] = store.approvals("inc-web-1")
    assert (approval.decision, approval.reason) == (ApprovalDecision.REJECTED, "peak hour")


def test_a_stale_hash_and_a_second_decision_are_messages_not_errors(
    client: TestClient, plan: Plan
) -> None:
    sign_in(client)
    token = _csrf(client)
    stale = client.post(f"{PAGE}/approve", data={"plan_hash": "0" * 64, "csrf": token})
    assert stale.status_code == 409
    assert "Not recorded" in stale.text and "stale" in stale.text

    first = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": token})
    assert first.status_code == 303
    again = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": token})
    assert again.status_code == 409
    assert "already approved by operator" in again.text


def test_an_unknown_incident_is_a_404_page(client: TestClient) -> None:
    sign_in(client)
    response = client.get("/ui/incidents/inc-nope")
    assert response.status_code == 404
    assert "inc-nope" in response.text


def test_sign_out_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    sign_in(client)
    assert client.post("/ui/logout", data={"csrf": "forged"}).status_code == 403
    out = client.post("/ui/logout", data={"csrf": _csrf(client)})
    assert out.status_code == 303
    assert client.get("/ui").status_code == 303


class _FirstOfTwo(StoreDecide):
    """The workflow's answer for a high-risk plan: the approval counts as the first of
    two (recorded in the audit) and the decision is PENDING."""

    def __call__(
        self,
        incident_id: str,
        plan_hash: str,
        decision: ApprovalDecision,
        actor: str,
        channel: str,
        reason: str = "",
    ) -> Approval:
        self.calls.append((incident_id, plan_hash, decision, actor, channel, reason))
        first = Approval(incident_id, plan_hash, ApprovalDecision.PENDING, actor, NOW, channel)
        self.store.audit.append(approval_entry(first, outcome=FIRST_APPROVAL))
        return first


def test_a_first_of_two_approvals_says_a_second_approver_is_needed(
    store: Store, plan: Plan
) -> None:
    with TestClient(ui_app(store, _FirstOfTwo(store)), follow_redirects=False) as client:
        sign_in(client)
        ok = client.post(f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": _csrf(client)})
        assert ok.headers["location"] == f"{PAGE}?done=pending"
        after = client.get(ok.headers["location"]).text
        assert "needs a second approver" in after
        assert "Approved by operator" in after
        assert 'id="approve"' in after  # still open: someone else decides
        assert store.approvals("inc-web-1") == []
