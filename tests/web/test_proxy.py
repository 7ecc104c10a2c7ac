"""Signing in through a trusted reverse proxy: its header names the user, believed only
on a connection from a configured proxy address, with roles mapped per user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import ip_network

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from medic.api import ApiContext, create_app
from medic.credentials import TrustedProxy
from medic.domain import Plan
from medic.domain.access import Role
from medic.store import Store
from tests.web.conftest import CREDENTIALS, FixedClock
from tests.web.seed import StoreDecide

PAGE = "/ui/incidents/inc-web-1"
PROXY = TrustedProxy(
    header="X-Auth-Request-User",
    networks=(ip_network("10.0.0.0/24"), ip_network("::1/128")),
    roles={"grace": Role.APPROVER},
)
GRACE = {"X-Auth-Request-User": "grace"}


def _app(store: Store, decide: StoreDecide, proxy: TrustedProxy = PROXY) -> FastAPI:
    ctx = ApiContext(
        store, CREDENTIALS, FixedClock(), "http://medic.test", web_decide=decide, proxy=proxy
    )
    return create_app(ctx)


@pytest.fixture
def via_proxy(store: Store, decide: StoreDecide, plan: Plan) -> Iterator[TestClient]:
    app = _app(store, decide)
    with TestClient(app, client=("10.0.0.7", 40000), follow_redirects=False) as c:
        yield c


@pytest.fixture
def direct(store: Store, decide: StoreDecide, plan: Plan) -> Iterator[TestClient]:
    app = _app(store, decide)
    with TestClient(app, client=("192.0.2.9", 40000), follow_redirects=False) as c:
        yield c


def _csrf(client: TestClient, headers: dict[str, str]) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(PAGE, headers=headers).text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_the_proxy_named_user_decides_as_itself_on_the_web_channel(
    via_proxy: TestClient, plan: Plan, decide: StoreDecide, store: Store
) -> None:
    page = via_proxy.get(PAGE, headers=GRACE)
    assert page.status_code == 200
    assert "grace" in page.text
    csrf = _csrf(via_proxy, GRACE)
    forged = via_proxy.post(
        f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": "x"}, headers=GRACE
    )
    assert forged.status_code == 403
    response = via_proxy.post(
        f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": csrf}, headers=GRACE
    )
    assert response.status_code == 303, response.text
    assert [(a.actor, a.channel) for a in store.approvals("inc-web-1")] == [("grace", "web")]


def test_the_header_from_anywhere_else_is_ignored(
    direct: TestClient, plan: Plan, decide: StoreDecide
) -> None:
    assert direct.get(PAGE, headers=GRACE).status_code == 303  # to the sign-in form
    assert direct.get("/incidents", headers=GRACE).status_code == 401
    response = direct.post(
        f"{PAGE}/approve", data={"plan_hash": plan.hash, "csrf": "x"}, headers=GRACE
    )
    assert response.status_code == 303
    assert decide.calls == []


def test_a_csrf_token_of_one_proxy_user_is_not_anothers(
    via_proxy: TestClient, plan: Plan, decide: StoreDecide
) -> None:
    csrf = _csrf(via_proxy, GRACE)
    other = {"X-Auth-Request-User": "mallory"}
    assert csrf != _csrf(via_proxy, other)


def test_an_unmapped_proxy_user_is_a_viewer(
    via_proxy: TestClient, plan: Plan, decide: StoreDecide
) -> None:
    who = {"X-Auth-Request-User": "walter"}
    assert via_proxy.get(PAGE, headers=who).status_code == 200
    response = via_proxy.post(
        f"{PAGE}/approve",
        data={"plan_hash": plan.hash, "csrf": _csrf(via_proxy, who)},
        headers=who,
    )
    assert response.status_code == 403
    assert decide.calls == []
    assert via_proxy.get("/incidents", headers=who).status_code == 200
    refused = via_proxy.post(
        "/incidents/inc-web-1/approve", json={"plan_hash": plan.hash}, headers=who
    )
    assert refused.status_code == 403


def test_with_no_default_role_only_mapped_users_get_in(
    store: Store, decide: StoreDecide, plan: Plan
) -> None:
    strict = TrustedProxy(PROXY.header, PROXY.networks, PROXY.roles, default_role=None)
    app = _app(store, decide, strict)
    with TestClient(app, client=("10.0.0.7", 40000), follow_redirects=False) as c:
        assert c.get("/incidents", headers={"X-Auth-Request-User": "walter"}).status_code == 401
        assert c.get("/incidents", headers=GRACE).status_code == 200
        assert c.get(PAGE, headers={"X-Auth-Request-User": "walter"}).status_code == 303


def test_a_token_still_works_behind_the_proxy(via_proxy: TestClient) -> None:
    token = CREDENTIALS.users["operator"]
    response = via_proxy.get("/incidents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
