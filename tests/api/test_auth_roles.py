"""Roles on every route of the API: viewer reads, approver decides, admin flips the kill
switch; the channel of a decision is how its caller authenticated, not what it says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.api import incidents as incidents_api
from medic.api.auth import approvers_only
from medic.credentials import Credentials, hash_password
from medic.domain import ApprovalDecision, ConflictError, Plan
from medic.domain.access import Role
from medic.store import Store
from tests.action.fakes import T0, FakeClock
from tests.web.seed import StoreDecide, seed_incident

INCIDENT = "inc-web-1"
CREDENTIALS = Credentials(
    webhook_tokens={"generic": "generic-webhook-token"},
    users={"vera": "viewer-token", "amir": "approver-token", "ada": "admin-token"},
    roles={"vera": Role.VIEWER, "ada": Role.ADMIN},  # amir has the default role: approver
    cli_tokens={"amir": "approver-cli-token"},
)
VIEWER = {"Authorization": "Bearer viewer-token"}
APPROVER = {"Authorization": "Bearer approver-token"}
APPROVER_CLI = {"Authorization": "Bearer approver-cli-token"}
ADMIN = {"Authorization": "Bearer admin-token"}
# Routes with their own authentication (source tokens, HMAC, Slack's signature), or none.
OPEN = {"/healthz", "/", "/slack/interactivity"}


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    with Store(sqlite_url) as opened:
        opened.migrate()
        yield opened


@pytest.fixture
def plan(store: Store) -> Plan:
    return seed_incident(store, INCIDENT)


@pytest.fixture
def decided(store: Store, monkeypatch: pytest.MonkeyPatch) -> StoreDecide:
    # The real gate and store without a workflow to wake (see tests/web/seed.py).
    recorder = StoreDecide(store)
    monkeypatch.setattr(incidents_api, "decide", recorder)
    return recorder


def _app(store: Store) -> FastAPI:
    return create_app(ApiContext(store, CREDENTIALS, FakeClock(), "http://medic.test"))


@pytest.fixture
def client(store: Store, plan: Plan, decided: StoreDecide) -> Iterator[TestClient]:
    with TestClient(_app(store)) as c:
        yield c


def _user_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for path, operations in app.openapi()["paths"].items():
        if path in OPEN:
            continue
        for method in operations:
            if path.startswith("/webhooks/") and method == "post":
                continue
            found.append((method.upper(), path.replace("{incident_id}", INCIDENT)))
    return found


def test_every_route_but_health_and_webhooks_refuses_a_caller_without_a_user_token(
    store: Store, plan: Plan, decided: StoreDecide
) -> None:
    app = _app(store)
    routes = _user_routes(app)
    # The list is built from the app itself: a route added later is checked too.
    assert ("GET", "/incidents") in routes and ("POST", "/control/pause") in routes
    assert ("GET", "/webhooks/rejected") in routes and ("GET", "/audit") in routes
    assert len(routes) >= 11
    body = {"plan_hash": plan.hash, "reason": "r"}
    webhook = {"Authorization": "Bearer generic-webhook-token"}
    with TestClient(app) as c:
        for method, path in routes:
            for headers in ({}, {"Authorization": "Bearer wrong"}, webhook):
                response = c.request(method, path, headers=headers, json=body)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
        assert c.get("/healthz").status_code == 200
    assert decided.calls == []
    assert not store.control.pause_state().paused


def test_a_viewer_reads_everything_and_changes_nothing(
    client: TestClient, store: Store, plan: Plan, decided: StoreDecide
) -> None:
    for path in (
        "/incidents",
        f"/incidents/{INCIDENT}",
        f"/incidents/{INCIDENT}/signals",
        f"/incidents/{INCIDENT}/timeline",
        "/webhooks/rejected",
        "/audit",
        "/control",
    ):
        assert client.get(path, headers=VIEWER).status_code == 200, path
    for path in (f"/incidents/{INCIDENT}/approve", f"/incidents/{INCIDENT}/reject"):
        refused = client.post(path, json={"plan_hash": plan.hash, "reason": "no"}, headers=VIEWER)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "user 'vera' has the role viewer; this needs approver"
    for path in ("/control/pause", "/control/resume"):
        assert client.post(path, headers=VIEWER).status_code == 403
    assert decided.calls == []
    assert store.approvals(INCIDENT) == []


def test_an_approver_decides_but_cannot_pause(client: TestClient, store: Store, plan: Plan) -> None:
    refused = client.post("/control/pause", json={"reason": "x"}, headers=APPROVER)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "user 'amir' has the role approver; this needs admin"
    assert not store.control.pause_state().paused

    approved = client.post(
        f"/incidents/{INCIDENT}/approve", json={"plan_hash": plan.hash}, headers=APPROVER
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["decision"], approved.json()["actor"]) == ("approved", "amir")


def test_an_admin_pauses_and_resumes(client: TestClient, store: Store) -> None:
    paused = client.post("/control/pause", json={"reason": "migration"}, headers=ADMIN)
    assert paused.status_code == 200
    assert (paused.json()["paused"], paused.json()["actor"]) == (True, "ada")
    assert client.post("/control/resume", headers=ADMIN).json()["paused"] is False


@pytest.mark.parametrize("claimed", ["web", "cli", "slack", "policy"])
def test_no_header_makes_an_api_call_count_as_another_channel(
    client: TestClient, store: Store, plan: Plan, claimed: str
) -> None:
    response = client.post(
        f"/incidents/{INCIDENT}/approve",
        json={"plan_hash": plan.hash},
        headers={**APPROVER, "X-Medic-Channel": claimed},
    )
    assert response.status_code == 200, response.text
    assert response.json()["channel"] == "api"
    assert [a.channel for a in store.approvals(INCIDENT)] == ["api"]


def test_a_users_cli_token_is_recorded_as_the_cli_channel(
    client: TestClient, store: Store, plan: Plan
) -> None:
    response = client.post(
        f"/incidents/{INCIDENT}/reject",
        json={"plan_hash": plan.hash, "reason": "not now"},
        headers={**APPROVER_CLI, "X-Medic-Channel": "web"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["actor"], response.json()["channel"]) == ("amir", "cli")
    assert [(a.actor, a.channel) for a in store.approvals(INCIDENT)] == [("amir", "cli")]


def test_the_schema_declares_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/incidents"]["get"]["security"] == [{"HTTPBearer": []}]


def test_a_channel_that_maps_its_users_lets_only_approvers_decide(store: Store, plan: Plan) -> None:
    # Slack names a medic user by its mapping, not by a credential: the role still counts.
    recorder = StoreDecide(store)
    store.users.put("pat", Role.VIEWER, hash_password("a long password"), T0)
    checked = approvers_only(recorder, CREDENTIALS, store.users)
    for viewer in ("vera", "pat"):
        with pytest.raises(ConflictError, match="deciding needs approver"):
            checked(INCIDENT, plan.hash, ApprovalDecision.APPROVED, viewer, "slack", "")
    assert recorder.calls == []
    approval = checked(INCIDENT, plan.hash, ApprovalDecision.APPROVED, "amir", "slack", "")
    assert (approval.actor, approval.channel) == ("amir", "slack")
